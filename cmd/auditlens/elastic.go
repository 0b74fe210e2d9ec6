package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/internal/safe"
	"github.com/auditlens/auditlens/sources"
	"github.com/auditlens/auditlens/sources/elastic"
	"github.com/auditlens/auditlens/views/model"
)

// esFlags are the Elasticsearch connection flags. Secrets are better given
// through the environment (ELASTICSEARCH_API_KEY, ELASTICSEARCH_PASSWORD),
// where other users of the machine cannot read them from the process list.
type esFlags struct {
	urls        listFlag
	index       string
	apiKey      string
	username    string
	password    string
	bearer      string
	caCert      string
	clientCert  string
	clientKey   string
	insecure    bool
	timeout     time.Duration
	drillDownAt int
}

func (e *esFlags) bind(fs *flag.FlagSet) {
	fs.Var(&e.urls, "es-url", "Elasticsearch URL to read from (repeatable; default $ELASTICSEARCH_URL when no --input is given)")
	fs.StringVar(&e.index, "index", elastic.DefaultIndex, "Elasticsearch index pattern, e.g. auditbeat-* or "+elastic.AgentIndex)
	fs.StringVar(&e.apiKey, "api-key", "", "Elasticsearch API key (default $ELASTICSEARCH_API_KEY)")
	fs.StringVar(&e.username, "username", "", "Elasticsearch user for basic auth (default $ELASTICSEARCH_USERNAME)")
	fs.StringVar(&e.password, "password", "", "Elasticsearch password (default $ELASTICSEARCH_PASSWORD; prefer the variable)")
	fs.StringVar(&e.bearer, "bearer-token", "", "Elasticsearch bearer token")
	fs.StringVar(&e.caCert, "ca-cert", "", "PEM file of the CA that signed the cluster's certificate")
	fs.StringVar(&e.clientCert, "client-cert", "", "PEM client certificate for TLS client authentication")
	fs.StringVar(&e.clientKey, "client-key", "", "PEM key of --client-cert")
	fs.BoolVar(&e.insecure, "insecure", false, "do not verify the cluster's TLS certificate (only when asked; a warning is printed)")
	fs.DurationVar(&e.timeout, "es-timeout", elastic.DefaultTimeout, "timeout of one Elasticsearch request")
	fs.IntVar(&e.drillDownAt, "rows", 5000, "process explorer: at most this many events fetched per window (raise it in the console with +)")
}

// config merges the flags over the environment; ok is false when no
// Elasticsearch source was asked for. The environment's URL counts only
// when no files were given, so files always win.
func (e *esFlags) config(getenv func(string) string, haveInputs bool) (elastic.Config, bool) {
	cfg := elastic.ConfigFromEnv(getenv)
	if len(e.urls) > 0 {
		cfg.URLs = e.urls
	} else if haveInputs {
		return cfg, false
	}
	if len(cfg.URLs) == 0 {
		return cfg, false
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&cfg.APIKey, e.apiKey)
	set(&cfg.Username, e.username)
	set(&cfg.Password, e.password)
	set(&cfg.BearerToken, e.bearer)
	cfg.CACert, cfg.ClientCert, cfg.ClientKey = e.caCert, e.clientCert, e.clientKey
	cfg.Insecure, cfg.Index, cfg.Timeout = e.insecure, e.index, e.timeout
	return cfg, true
}

// openElastic connects and prints the source's warnings (never credentials).
func openElastic(ctx context.Context, cfg elastic.Config, errw io.Writer) (*elastic.Source, error) {
	src, warnings, err := elastic.Open(ctx, cfg)
	for _, w := range warnings {
		fmt.Fprintln(errw, "warning:", safe.Text(w))
	}
	return src, err
}

// esRange is the range an Elasticsearch read covers: the flags', else the
// last seven days (a cluster has no "all the data" that is cheap to ask).
func esRange(from, to time.Time, now time.Time) (time.Time, time.Time) {
	if to.IsZero() {
		to = now
	}
	if from.IsZero() {
		from = to.Add(-7 * 24 * time.Hour)
	}
	return from, to
}

// loadElastic fetches the counts the cache lacks for the range and returns
// the loads that hold the source's data there.
func loadElastic(ctx context.Context, store *cache.Store, src *elastic.Source, from, to time.Time, sel sources.Selection, progress func(model.Progress), errw io.Writer) ([]int64, error) {
	res, err := src.LoadCounts(ctx, store, from, to, sel, func(p elastic.Progress) {
		if progress != nil {
			progress(model.Progress{Stage: fmt.Sprintf("counting in %s: %d pages", src.Index(), p.Pages), Done: int64(p.Done), Total: int64(p.Missing)})
		}
	})
	for _, w := range res.Warnings {
		fmt.Fprintln(errw, "warning:", safe.Text(w))
	}
	if err != nil {
		return nil, err
	}
	return store.LoadsOf(ctx, res.Key)
}

// describeElastic is the status bar's source label: URLs without
// credentials and the index pattern.
func describeElastic(src *elastic.Source) string {
	s := src.String()
	if i := strings.Index(s, " auth "); i > 0 {
		s = s[:i]
	}
	return s
}
