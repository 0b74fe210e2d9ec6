package elastic

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/sources"
)

// secretsOf lists the secret strings of a configuration, decoded forms included.
func secretsOf(cfg Config) []string {
	var out []string
	for _, s := range []string{cfg.APIKey, cfg.Password, cfg.BearerToken} {
		if s == "" {
			continue
		}
		out = append(out, s)
		if dec, err := base64.StdEncoding.DecodeString(s); err == nil {
			for _, part := range strings.Split(string(dec), ":") {
				if len(part) >= 6 {
					out = append(out, part)
				}
			}
		}
	}
	return out
}

func assertNoSecret(t testing.TB, text string, cfg Config) {
	t.Helper()
	for _, s := range secretsOf(cfg) {
		if strings.Contains(text, s) {
			t.Errorf("%q shows the secret %q", text, s)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want Config
	}{
		{"nothing", nil, Config{}},
		{"one URL", map[string]string{EnvURL: "https://es:9200"}, Config{URLs: []string{"https://es:9200"}}},
		{"a list with blanks", map[string]string{EnvURL: " https://es1:9200, ,https://es2:9200 ,"}, Config{URLs: []string{"https://es1:9200", "https://es2:9200"}}},
		{"API key", map[string]string{EnvAPIKey: " aWQ6a2V5 \n"}, Config{APIKey: "aWQ6a2V5"}},
		{"user and password", map[string]string{EnvUsername: "analyst", EnvPassword: " spaces kept "}, Config{Username: "analyst", Password: " spaces kept "}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := ConfigFromEnv(func(k string) string { return c.env[k] })
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %#v, want %#v", got.URLs, c.want.URLs)
			}
			if got.APIKey != c.want.APIKey || got.Username != c.want.Username || got.Password != c.want.Password {
				t.Errorf("credentials differ from %v", c.env)
			}
		})
	}
}

func TestConfigPrintsNoSecret(t *testing.T) {
	cfgs := []Config{
		{URLs: []string{"https://es:9200"}, APIKey: "aWQ6dmVyeS1zZWNyZXQta2V5"},
		{URLs: []string{"https://es:9200"}, Username: "analyst", Password: "pa55-w0rd"},
		{URLs: []string{"https://es:9200"}, BearerToken: "AAEAAWVsYXN0aWMtdG9rZW4tc2VjcmV0"},
		{URLs: []string{"https://analyst:pa55-w0rd@es:9200"}, Password: "pa55-w0rd"},
	}
	for _, cfg := range cfgs {
		for _, text := range []string{cfg.String(), fmt.Sprint(cfg), fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, &cfg)} {
			assertNoSecret(t, text, cfg)
			if !strings.Contains(text, "https://es:9200") || !strings.Contains(text, "index auditbeat-*") {
				t.Errorf("%q does not describe the configuration", text)
			}
		}
	}
}

func TestPrepare(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.txt")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	cases := []struct {
		name     string
		cfg      Config
		err      string
		urls     []string
		user     string
		apiKey   string
		warnings int
	}{
		{"default URL", Config{}, "", []string{DefaultURL}, "", "", 0},
		{"trailing slash and path", Config{URLs: []string{"https://es.example:9200/proxy/"}}, "", []string{"https://es.example:9200/proxy"}, "", "", 0},
		{"user info becomes basic auth", Config{URLs: []string{"https://analyst:pa55-w0rd@es:9200"}}, "", []string{"https://es:9200"}, "analyst", "", 0},
		{"API key as id:key", Config{URLs: []string{"https://es:9200"}, APIKey: "id:key"}, "", []string{"https://es:9200"}, "", base64.StdEncoding.EncodeToString([]byte("id:key")), 0},
		{"credentials over http", Config{URLs: []string{"http://es:9200"}, APIKey: "aWQ6a2V5"}, "", []string{"http://es:9200"}, "", "aWQ6a2V5", 1},
		{"insecure", Config{URLs: []string{"https://es:9200"}, Insecure: true}, "", []string{"https://es:9200"}, "", "", 1},
		{"not a URL", Config{URLs: []string{"es:9200:x"}}, "is not a URL", nil, "", "", 0},
		{"bad scheme", Config{URLs: []string{"ftp://es:21"}}, "scheme must be http or https", nil, "", "", 0},
		{"query in URL", Config{URLs: []string{"https://es:9200/?pretty"}}, "remove the query", nil, "", "", 0},
		{"index with a slash", Config{Index: "auditbeat-*/_delete_by_query"}, "index names cannot hold '/'", nil, "", "", 0},
		{"index list", Config{Index: " b-*, a-* ,b-*"}, "", []string{DefaultURL}, "", "", 0},
		{"two auth methods", Config{APIKey: "aWQ6a2V5", Username: "analyst", Password: "pa55-w0rd"}, "one way to authenticate", nil, "", "", 0},
		{"password without user", Config{Password: "pa55-w0rd"}, "without a user name", nil, "", "", 0},
		{"certificate without key", Config{ClientCert: "client.pem"}, "both its certificate and its key", nil, "", "", 0},
		{"missing CA file", Config{CACert: filepath.Join(dir, "nope.pem")}, "no such file", nil, "", "", 0},
		{"CA file not PEM", Config{CACert: notPEM}, "holds no PEM certificate", nil, "", "", 0},
		{"missing client key", Config{ClientCert: notPEM, ClientKey: filepath.Join(dir, "nope.key")}, "no such file", nil, "", "", 0},
		{"client pair not PEM", Config{ClientCert: notPEM, ClientKey: notPEM}, "do not form a PEM certificate", nil, "", "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := prepare(c.cfg)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				assertNoSecret(t, err.Error(), c.cfg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.urls, c.urls) || p.cfg.Username != c.user || p.apiKey != c.apiKey || len(p.warnings) != c.warnings {
				t.Errorf("urls %v user %q key %q warnings %q", p.urls, p.cfg.Username, p.apiKey, p.warnings)
			}
			for _, w := range p.warnings {
				assertNoSecret(t, w, c.cfg)
			}
		})
	}
}

// TestCredentialsStayOutOfEverything loads counts and a drill-down with each
// kind of credential, checks the cluster received it, and looks for it in
// everything the source prints or stores: keys, descriptions, warnings,
// errors and the cache file itself.
func TestCredentialsStayOutOfEverything(t *testing.T) {
	cases := []struct {
		name   string
		set    func(*Config)
		header string
	}{
		{"API key", func(c *Config) { c.APIKey = "aWQ6dmVyeS1zZWNyZXQta2V5" }, "APIKey aWQ6dmVyeS1zZWNyZXQta2V5"},
		{"basic auth", func(c *Config) { c.Username, c.Password = "analyst", "pa55-w0rd" },
			"Basic " + base64.StdEncoding.EncodeToString([]byte("analyst:pa55-w0rd"))},
		{"bearer token", func(c *Config) { c.BearerToken = "AAEAAWVsYXN0aWMtdG9rZW4tc2VjcmV0" }, "Bearer AAEAAWVsYXN0aWMtdG9rZW4tc2VjcmV0"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFakeCluster(t)
			cfg := f.config()
			c.set(&cfg)
			ctx := context.Background()
			s, warnings, err := Open(ctx, cfg)
			if err != nil {
				t.Fatal(err)
			}
			store := openStore(t)
			res, err := s.LoadCounts(ctx, store, fakeRange.from, fakeRange.to, sources.Executions, nil)
			if err != nil {
				t.Fatal(err)
			}
			w := cache.DrillDownWindow{Scope: sources.ScopeHost, Entity: "web-1", From: fakeDay, To: fakeDay.Add(time.Hour)}
			if _, _, _, err := s.LoadDrillDown(ctx, store, w, 0); err != nil {
				t.Fatal(err)
			}
			for _, h := range f.auth {
				if h != c.header {
					t.Fatalf("the cluster received Authorization %q", h)
				}
			}
			// A failure's message too.
			f.setFault(func(w http.ResponseWriter, r *http.Request, route string, n int) bool {
				writeJSON(w, 401, map[string]any{"error": map[string]any{"type": "security_exception", "reason": "unable to authenticate"}})
				return true
			})
			_, _, openErr := Open(ctx, cfg)
			if openErr == nil {
				t.Fatal("401 accepted")
			}
			printed := strings.Join(append(warnings, s.Key(sources.Executions), s.Key(sources.AllSyscalls), s.String(), cfg.String(),
				fmt.Sprintf("%+v %#v", cfg, res), openErr.Error()), "\n")
			assertNoSecret(t, printed, cfg)

			srcs, err := store.Sources(ctx, nil)
			if err != nil || len(srcs) == 0 {
				t.Fatal(srcs, err)
			}
			assertNoSecret(t, fmt.Sprintf("%+v", srcs), cfg)
			store.Close()
			files, _ := filepath.Glob(store.Path() + "*")
			for _, file := range files {
				data, err := os.ReadFile(file)
				if err != nil {
					t.Fatal(err)
				}
				for _, secret := range secretsOf(cfg) {
					if bytes.Contains(data, []byte(secret)) {
						t.Errorf("the cache file %s holds the secret %q", filepath.Base(file), secret)
					}
				}
			}
		})
	}
}

// testPKI is a certificate authority, a server certificate for 127.0.0.1
// and a client certificate, written as PEM files.
type testPKI struct {
	caFile, clientCert, clientKey string
	pool                          *x509.CertPool
	server                        tls.Certificate
}

func newTestPKI(t *testing.T) testPKI {
	t.Helper()
	dir := t.TempDir()
	key := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	write := func(name, typ string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	caKey := key()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	issue := func(serial int64, cn string, usage x509.ExtKeyUsage, server bool) ([]byte, *ecdsa.PrivateKey) {
		k := key()
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: cn}, NotBefore: time.Now().Add(-time.Hour),
			NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage}}
		if server {
			tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		return der, k
	}
	pki := testPKI{pool: x509.NewCertPool()}
	pki.pool.AddCert(ca)
	pki.caFile = write("ca.pem", "CERTIFICATE", caDER)
	srvDER, srvKey := issue(2, "127.0.0.1", x509.ExtKeyUsageServerAuth, true)
	pki.server = tls.Certificate{Certificate: [][]byte{srvDER}, PrivateKey: srvKey}
	cliDER, cliKey := issue(3, "analyst", x509.ExtKeyUsageClientAuth, false)
	pki.clientCert = write("client.pem", "CERTIFICATE", cliDER)
	keyDER, err := x509.MarshalECPrivateKey(cliKey)
	if err != nil {
		t.Fatal(err)
	}
	pki.clientKey = write("client.key", "EC PRIVATE KEY", keyDER)
	return pki
}

func TestTLS(t *testing.T) {
	pki := newTestPKI(t)
	f := newFakeCluster(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pki.server}, ClientCAs: pki.pool, ClientAuth: tls.VerifyClientCertIfGiven}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	base := Config{URLs: []string{srv.URL}, MaxRetries: -1}

	cases := []struct {
		name     string
		set      func(*Config)
		err      error
		says     string
		warnings int
	}{
		{"unknown authority", func(*Config) {}, ErrUnreachable, "certificate signed by unknown authority", 0},
		{"CA file", func(c *Config) { c.CACert = pki.caFile }, nil, "", 0},
		{"insecure", func(c *Config) { c.Insecure = true }, nil, "", 1},
		{"client certificate", func(c *Config) { c.CACert, c.ClientCert, c.ClientKey = pki.caFile, pki.clientCert, pki.clientKey }, nil, "", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := base
			c.set(&cfg)
			_, warnings, err := Open(context.Background(), cfg)
			if c.err != nil {
				if !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), srv.URL) {
					t.Fatalf("error %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(warnings) != c.warnings {
				t.Errorf("warnings %q", warnings)
			}
		})
	}

	// A server that requires a client certificate refuses a client without one.
	strict := httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	strict.TLS = &tls.Config{Certificates: []tls.Certificate{pki.server}, ClientCAs: pki.pool, ClientAuth: tls.RequireAndVerifyClientCert}
	strict.Config.ErrorLog = log.New(io.Discard, "", 0)
	strict.StartTLS()
	t.Cleanup(strict.Close)
	if _, _, err := Open(context.Background(), Config{URLs: []string{strict.URL}, CACert: pki.caFile, MaxRetries: -1}); !errors.Is(err, ErrUnreachable) {
		t.Errorf("without a client certificate: %v", err)
	}
	if _, _, err := Open(context.Background(), Config{URLs: []string{strict.URL}, CACert: pki.caFile, ClientCert: pki.clientCert, ClientKey: pki.clientKey}); err != nil {
		t.Errorf("with a client certificate: %v", err)
	}
}

func TestIndexPatternIsNormalized(t *testing.T) {
	cases := map[string]string{
		"":                                   DefaultIndex,
		" , ":                                DefaultIndex,
		" auditbeat-* , logs-* ,auditbeat-*": "auditbeat-*,logs-*",
		"auditbeat-*,-auditbeat-old*":        "auditbeat-*,-auditbeat-old*",
	}
	for in, want := range cases {
		if got := (Config{Index: in}).index(); got != want {
			t.Errorf("%q: %q, want %q", in, got, want)
		}
	}
}
