package elastic

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/elastic/go-elasticsearch/v8"
)

const (
	// maxResponseBytes bounds one answer held in memory: a page of buckets
	// or hits is a few megabytes.
	maxResponseBytes = 256 << 20
	// firstBackoff and maxBackoff bound the exponential delay between retries.
	firstBackoff = 500 * time.Millisecond
	maxBackoff   = 15 * time.Second
)

// client sends requests to the cluster and turns failures into *Error.
type client struct {
	es         *elasticsearch.Client
	index      string
	auth       string // how requests authenticate, for messages
	firstURL   string
	timeout    time.Duration
	maxRetries int
	backoff    func(n int) time.Duration
}

func newClient(p *prepared) (*client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = p.tls
	var rt http.RoundTripper = tr
	if p.cfg.wrap != nil {
		rt = p.cfg.wrap(rt)
	}
	es, err := elasticsearch.NewClient(elasticsearch.Config{
		Addresses:    p.urls, // always set: an empty list would make the library read the environment itself
		APIKey:       p.apiKey,
		Username:     p.cfg.Username,
		Password:     p.cfg.Password,
		ServiceToken: p.cfg.BearerToken,
		Transport:    rt,
		DisableRetry: true, // retried here, with backoff and messages of our own
	})
	if err != nil {
		return nil, fmt.Errorf("elasticsearch %s: %w", p.urls[0], err)
	}
	c := &client{
		es: es, index: p.cfg.index(), auth: p.cfg.authMethod(), firstURL: p.urls[0],
		timeout: p.cfg.timeout(), maxRetries: p.cfg.maxRetries(), backoff: p.cfg.backoff,
	}
	if c.backoff == nil {
		c.backoff = exponentialBackoff
	}
	return c, nil
}

// exponentialBackoff doubles the delay from firstBackoff up to maxBackoff,
// with jitter so that many clients do not retry in step.
func exponentialBackoff(n int) time.Duration {
	d := firstBackoff << min(n-1, 10)
	d = min(d, maxBackoff)
	return d/2 + rand.N(d/2+1)
}

// request is one call to the cluster.
type request struct {
	op     string // what it does, for messages
	method string
	path   string
	query  url.Values
	body   []byte
	// privilege is what a 403 most likely lacks, when the cluster does not say.
	privilege string
	// notFoundOK lets a 404 through to the caller (closing a gone PIT).
	notFoundOK bool
}

// response is a successful answer.
type response struct {
	status int
	body   []byte
	host   string // the node that answered
}

// retryable says whether a status means "try again later".
func retryable(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// do sends req, retrying an overloaded or unavailable cluster and dropped
// connections with exponential backoff, each attempt bounded by the timeout.
func (c *client) do(ctx context.Context, req request) (*response, error) {
	var last *Error
	for attempt := 1; ; attempt++ {
		res, err := c.attempt(ctx, req)
		if err == nil {
			return res, nil
		}
		var e *Error
		if !errors.As(err, &e) {
			return nil, err // the caller's context ended
		}
		e.Attempts = attempt
		last = e
		again := retryable(e.Status) || errors.Is(e.kind, ErrUnreachable)
		if !again || attempt > c.maxRetries {
			break
		}
		wait := c.backoff(attempt)
		if e.retryAfter > wait {
			wait = min(e.retryAfter, maxBackoff)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	return nil, last.withAdvice(c)
}

// attempt sends req once.
func (c *client) attempt(ctx context.Context, req request) (*response, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u := &url.URL{Path: req.path, RawQuery: req.query.Encode()}
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(actx, req.method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("elasticsearch %s: %s: %w", c.firstURL, req.op, err)
	}
	if req.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	hr.Header.Set("Accept", "application/json")
	res, err := c.es.Perform(hr)
	host := c.firstURL
	if hr.URL.Host != "" { // the transport set the node it chose
		host = (&url.URL{Scheme: hr.URL.Scheme, Host: hr.URL.Host}).String()
	}
	if err != nil {
		return nil, c.transportError(ctx, actx, req, host, err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, maxResponseBytes+1))
	if err != nil {
		return nil, c.transportError(ctx, actx, req, host, err)
	}
	if len(data) > maxResponseBytes {
		return nil, &Error{Op: req.op, Host: host, Index: c.index, Status: res.StatusCode, kind: ErrBadResponse,
			Reason: fmt.Sprintf("the answer is larger than %d MiB", maxResponseBytes>>20)}
	}
	if res.StatusCode >= 200 && res.StatusCode < 300 || res.StatusCode == http.StatusNotFound && req.notFoundOK {
		return &response{status: res.StatusCode, body: data, host: host}, nil
	}
	typ, reason := parseErrorBody(data)
	e := &Error{Op: req.op, Host: host, Index: c.index, Status: res.StatusCode, Reason: reason, errType: typ, privilege: req.privilege}
	switch {
	case res.StatusCode == http.StatusUnauthorized:
		e.kind = ErrUnauthorized
	case res.StatusCode == http.StatusForbidden:
		e.kind = ErrForbidden
	case res.StatusCode == http.StatusNotFound && typ == "index_not_found_exception":
		e.kind = ErrIndexNotFound
	case retryable(res.StatusCode):
		e.kind = ErrUnavailable
		if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil && s > 0 {
			e.retryAfter = time.Duration(s) * time.Second
		}
	default:
		e.kind = ErrRequest
	}
	return nil, e
}

// transportError describes a request that got no complete answer.
func (c *client) transportError(ctx, actx context.Context, req request, host string, err error) error {
	if ctx.Err() != nil {
		return ctx.Err() // the caller gave up: not the cluster's fault
	}
	e := &Error{Op: req.op, Host: host, Index: c.index, err: err}
	if actx.Err() != nil || isTimeout(err) {
		e.kind = ErrTimeout
		e.Reason = fmt.Sprintf("no answer within %s", c.timeout)
		return e
	}
	if errors.Is(err, elasticsearch.ErrClosed) {
		e.kind = ErrRequest
		e.Reason = "the client is closed"
		return e
	}
	e.kind = ErrUnreachable
	e.Reason = clean(networkReason(err), 300)
	return e
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// networkReason keeps the innermost useful text of a network error; the
// library's own messages are kept whole.
func networkReason(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Op + " " + op.Err.Error()
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return "the connection closed before the answer was complete"
	}
	return err.Error()
}

// withAdvice fills in what the analyst should do about e.
func (e *Error) withAdvice(c *client) *Error {
	switch {
	case errors.Is(e.kind, ErrUnreachable):
		e.Advice = "Check the cluster URL (given, or ELASTICSEARCH_URL), that the cluster runs, and the network path to it (proxy, firewall, TLS)"
	case errors.Is(e.kind, ErrTimeout):
		e.Advice = "The cluster is slow to answer: raise the request timeout, or load a shorter time range"
	case errors.Is(e.kind, ErrUnauthorized):
		if c.auth == "none" {
			e.Advice = "The cluster requires authentication: give an API key (or ELASTICSEARCH_API_KEY), a user name and password (or ELASTICSEARCH_USERNAME and ELASTICSEARCH_PASSWORD), or a bearer token"
		} else {
			e.Advice = fmt.Sprintf("The cluster refused the %s: check that it is right and not expired or revoked", c.auth)
		}
	case errors.Is(e.kind, ErrForbidden):
		e.Advice = fmt.Sprintf("Authenticated with %s, but %s; ask an administrator for a role with the index privileges read and view_index_metadata on %s (and the cluster privilege monitor)",
			c.auth, missingPrivilege(e.Reason, e.privilegeOr("index privilege \"read\"")), c.index)
	case errors.Is(e.kind, ErrIndexNotFound):
		e.Advice = indexAdvice(c.index)
	case errors.Is(e.kind, ErrUnavailable):
		if e.Status == http.StatusTooManyRequests {
			e.Advice = "The cluster kept refusing work (too many requests): try again later, or load a shorter time range"
		} else {
			e.Advice = "The cluster or a proxy in front of it is unavailable: check the cluster's health and try again later"
		}
	case e.Status == http.StatusBadRequest:
		e.Advice = "The cluster refused the query; check that the index pattern holds Auditbeat data with @timestamp mapped as a date"
	}
	return e
}

func (e *Error) privilegeOr(def string) string {
	if e.privilege != "" {
		return e.privilege
	}
	return def
}

// indexAdvice says what to do when the pattern matches nothing.
func indexAdvice(index string) string {
	if index == DefaultIndex {
		return fmt.Sprintf("Name the index holding audit data with --index (Elastic Agent's auditd manager writes to %s)", AgentIndex)
	}
	return "Check the index pattern given with --index"
}
