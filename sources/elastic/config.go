// Package elastic reads Auditbeat data from Elasticsearch: per-minute bucket
// counts pushed down to the cluster as a composite aggregation, written into
// the cache span by span, and the execution events of one window, for the
// process explorer, through a point in time.
package elastic

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

const (
	// DefaultIndex is where Auditbeat writes.
	DefaultIndex = "auditbeat-*"
	// AgentIndex is where Elastic Agent's auditd manager integration writes
	// the same documents.
	AgentIndex = "logs-auditd_manager.auditd-*"
	// DefaultURL is the cluster asked when no URL is given.
	DefaultURL = "http://localhost:9200"
	// DefaultTimeout bounds one request.
	DefaultTimeout = 60 * time.Second
	// DefaultMaxRetries is how often a request is retried after an overloaded
	// or unavailable cluster (429, 502, 503, 504) or a dropped connection.
	DefaultMaxRetries = 4
)

// Environment variables ConfigFromEnv reads.
const (
	EnvURL      = "ELASTICSEARCH_URL" // comma-separated list
	EnvAPIKey   = "ELASTICSEARCH_API_KEY"
	EnvUsername = "ELASTICSEARCH_USERNAME"
	EnvPassword = "ELASTICSEARCH_PASSWORD"
)

// Config says how to reach Elasticsearch and where the audit data lies. Its
// String never shows a secret, so it may be printed or logged.
type Config struct {
	// URLs of the cluster's nodes; requests go round them. User info in a URL
	// (https://user:pass@host) is taken as basic auth and removed from it.
	URLs []string
	// One way to authenticate: an API key (the base64 "encoded" form Kibana
	// shows, or "id:key"), a user name and password, or a bearer token.
	APIKey      string
	Username    string
	Password    string
	BearerToken string
	// TLS: CACert is a PEM file of certificate authorities to trust besides
	// the system's; ClientCert and ClientKey are PEM files for client
	// certificate authentication. Insecure skips certificate verification.
	CACert     string
	ClientCert string
	ClientKey  string
	Insecure   bool
	// Index is the index pattern, or a comma list of them; default DefaultIndex.
	Index string
	// Timeout bounds one request; default DefaultTimeout.
	Timeout time.Duration
	// MaxRetries bounds the retries of one request; 0 means DefaultMaxRetries,
	// a negative number none.
	MaxRetries int

	// wrap, when set, wraps the HTTP transport (tests count requests and bytes).
	wrap func(http.RoundTripper) http.RoundTripper
	// backoff, when set, replaces the delay before retry n (n from 1).
	backoff func(n int) time.Duration
}

// ConfigFromEnv returns the defaults the environment gives: ELASTICSEARCH_URL
// (a comma list), ELASTICSEARCH_API_KEY, ELASTICSEARCH_USERNAME and
// ELASTICSEARCH_PASSWORD. getenv is os.Getenv, or a map's lookup in tests.
func ConfigFromEnv(getenv func(string) string) Config {
	var cfg Config
	for _, u := range strings.Split(getenv(EnvURL), ",") {
		if u = strings.TrimSpace(u); u != "" {
			cfg.URLs = append(cfg.URLs, u)
		}
	}
	cfg.APIKey = strings.TrimSpace(getenv(EnvAPIKey))
	cfg.Username = getenv(EnvUsername)
	cfg.Password = getenv(EnvPassword)
	return cfg
}

// String describes the configuration without its secrets.
func (c Config) String() string {
	var b strings.Builder
	b.WriteString("elasticsearch ")
	urls := make([]string, 0, len(c.URLs))
	for _, u := range c.URLs {
		urls = append(urls, redactURL(u))
	}
	if len(urls) == 0 {
		urls = append(urls, DefaultURL)
	}
	b.WriteString(strings.Join(urls, ","))
	auth := c.authMethod()
	if auth == "none" {
		for _, raw := range c.URLs {
			if u, err := url.Parse(raw); err == nil && u.User != nil {
				auth = fmt.Sprintf("basic auth as user %q (from the URL)", u.User.Username())
				break
			}
		}
	}
	fmt.Fprintf(&b, " index %s auth %s", c.index(), auth)
	if c.CACert != "" {
		fmt.Fprintf(&b, " ca %s", c.CACert)
	}
	if c.ClientCert != "" {
		fmt.Fprintf(&b, " client-cert %s", c.ClientCert)
	}
	if c.Insecure {
		b.WriteString(" insecure")
	}
	return b.String()
}

// GoString keeps %#v from printing the secrets field by field.
func (c Config) GoString() string { return "elastic.Config{" + c.String() + "}" }

func (c Config) index() string {
	if idx := normalizeIndex(c.Index); idx != "" {
		return idx
	}
	return DefaultIndex
}

// normalizeIndex trims a comma list of patterns, so that lists written
// differently give the same cache key. The order stays: an exclusion
// ("-auditbeat-old*") applies to the patterns before it.
func normalizeIndex(s string) string {
	var parts []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" && !slices.Contains(parts, p) {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ",")
}

// authMethod names how requests authenticate, without the secret: errors
// say it so that a 401 points at the right flag.
func (c Config) authMethod() string {
	switch {
	case c.APIKey != "":
		return "API key"
	case c.BearerToken != "":
		return "bearer token"
	case c.Username != "" || c.Password != "":
		return fmt.Sprintf("basic auth as user %q", c.Username)
	case c.ClientCert != "":
		return "client certificate"
	}
	return "none"
}

func (c Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c Config) maxRetries() int {
	switch {
	case c.MaxRetries < 0:
		return 0
	case c.MaxRetries == 0:
		return DefaultMaxRetries
	}
	return c.MaxRetries
}

// redactURL drops the user info of a URL for display; an unparsable URL is
// shown only by its length, since it might hold a secret.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Sprintf("<unparsable URL of %d characters>", len(raw))
	}
	u.User = nil
	return u.String()
}

// prepared is a checked configuration, ready to build a client from.
type prepared struct {
	cfg      Config
	urls     []string // without user info
	apiKey   string   // base64 "id:key"
	tls      *tls.Config
	warnings []string
}

// prepare checks the configuration and resolves what it names: URLs, the API
// key's form, the TLS files. Errors name files and URLs, never secrets.
func prepare(cfg Config) (*prepared, error) {
	p := &prepared{cfg: cfg}
	raw := cfg.URLs
	if len(raw) == 0 {
		raw = []string{DefaultURL}
	}
	plainHTTP := false
	for _, r := range raw {
		u, err := url.Parse(strings.TrimSpace(r))
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("elasticsearch URL %s is not a URL like https://host:9200", redactURL(r))
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return nil, fmt.Errorf("elasticsearch URL %s: the scheme must be http or https", redactURL(r))
		}
		if u.User != nil {
			if p.cfg.Username == "" && p.cfg.Password == "" {
				p.cfg.Username = u.User.Username()
				p.cfg.Password, _ = u.User.Password()
			}
			u.User = nil
		}
		if u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("elasticsearch URL %s: remove the query or fragment", redactURL(r))
		}
		u.Path = strings.TrimSuffix(u.Path, "/")
		plainHTTP = plainHTTP || u.Scheme == "http"
		p.urls = append(p.urls, u.String())
	}
	p.cfg.URLs = p.urls
	// The pattern goes into request paths: characters Elasticsearch forbids
	// in index names could address another endpoint.
	if i := strings.IndexAny(p.cfg.index(), "/\\?\"<>| #"); i >= 0 {
		return nil, fmt.Errorf("elasticsearch index pattern %q: index names cannot hold %q", clean(p.cfg.index(), 200), p.cfg.index()[i])
	}

	methods := 0
	for _, set := range []bool{cfg.APIKey != "", cfg.BearerToken != "", p.cfg.Username != "" || p.cfg.Password != ""} {
		if set {
			methods++
		}
	}
	if methods > 1 {
		return nil, errors.New("elasticsearch: give one way to authenticate: an API key, a user name and password, or a bearer token")
	}
	if p.cfg.Password != "" && p.cfg.Username == "" {
		return nil, errors.New("elasticsearch: a password was given without a user name")
	}
	if cfg.APIKey != "" {
		p.apiKey = cfg.APIKey
		if strings.Contains(cfg.APIKey, ":") {
			p.apiKey = base64.StdEncoding.EncodeToString([]byte(cfg.APIKey))
		}
	}
	if (cfg.ClientCert == "") != (cfg.ClientKey == "") {
		return nil, errors.New("elasticsearch: a client certificate needs both its certificate and its key file")
	}

	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CACert != "" {
		pem, err := os.ReadFile(cfg.CACert)
		if err != nil {
			return nil, fmt.Errorf("elasticsearch CA certificate: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("elasticsearch CA certificate %s holds no PEM certificate", cfg.CACert)
		}
		tc.RootCAs = pool
	}
	if cfg.ClientCert != "" {
		// The key file's content is secret: say which file failed, not why in its words.
		cert, err := tls.LoadX509KeyPair(cfg.ClientCert, cfg.ClientKey)
		if err != nil {
			var pathErr *os.PathError
			if errors.As(err, &pathErr) {
				return nil, fmt.Errorf("elasticsearch client certificate: %w", pathErr)
			}
			return nil, fmt.Errorf("elasticsearch client certificate %s and key %s do not form a PEM certificate and matching key", cfg.ClientCert, cfg.ClientKey)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	if cfg.Insecure {
		tc.InsecureSkipVerify = true
		p.warnings = append(p.warnings, "TLS certificate verification is off (--insecure): anyone between here and the cluster can read and change what is sent, credentials included")
	}
	if plainHTTP && methods > 0 {
		p.warnings = append(p.warnings, fmt.Sprintf("credentials (%s) are sent unencrypted over http: use https URLs", p.cfg.authMethod()))
	}
	p.tls = tc
	return p, nil
}
