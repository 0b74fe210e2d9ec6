package elastic

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/sources"
)

// Source is an opened Elasticsearch source: a cluster, an index pattern and
// how that pattern maps the audit fields. It is safe for concurrent use.
type Source struct {
	c       *client
	cluster string // the cluster's identity, for cache keys
	name    string // the cluster's name, for messages
	version string
	plan    *fieldPlan
	// now is the clock deciding which spans reach into the present.
	now func() time.Time
	// pageSize is the number of buckets per aggregation page, pageSizeHits
	// the number of documents per drill-down page.
	pageSize, pageSizeHits int
}

// Open connects to the cluster, reads its identity and how the index pattern
// maps the audit fields. The warnings are for the analyst to read: TLS
// verification switched off, credentials over plain http, fields that
// cannot be counted.
func Open(ctx context.Context, cfg Config) (*Source, []string, error) {
	p, err := prepare(cfg)
	if err != nil {
		return nil, nil, err
	}
	c, err := newClient(p)
	if err != nil {
		return nil, p.warnings, err
	}
	s := &Source{c: c, now: time.Now, pageSize: compositePageSize, pageSizeHits: hitsPageSize}
	warnings := p.warnings
	id, err := readIdentity(ctx, c)
	var e *Error
	switch {
	case err == nil:
		s.cluster, s.name, s.version = id.UUID, clean(id.Name, 100), clean(id.Version.Number, 40)
	case errors.As(err, &e) && errors.Is(err, ErrForbidden):
		// Reading data does not need the monitor privilege: key the cache by
		// the URLs instead, and say so.
		warnings = append(warnings, fmt.Sprintf("cannot read the cluster's identity (%s); the cache keys this source by its URLs instead, so another URL of the same cluster loads its data again",
			missingPrivilege(e.Reason, `cluster privilege "monitor"`)))
	default:
		return nil, warnings, err
	}
	if s.cluster == "" || s.cluster == "_na_" {
		s.cluster = "urls:" + strings.Join(p.urls, ",")
	}
	if s.plan, err = readFieldPlan(ctx, c); err != nil {
		return nil, warnings, err
	}
	warnings = append(warnings, s.plan.warnings...)
	return s, warnings, nil
}

// identity is the answer of GET /.
type identity struct {
	Name    string `json:"cluster_name"`
	UUID    string `json:"cluster_uuid"`
	Version struct {
		Number string `json:"number"`
	} `json:"version"`
}

func readIdentity(ctx context.Context, c *client) (identity, error) {
	var id identity
	res, err := c.do(ctx, request{op: "read the cluster's identity", method: http.MethodGet, path: "/",
		privilege: `cluster privilege "monitor"`})
	if err != nil {
		return id, err
	}
	if err := json.Unmarshal(res.body, &id); err != nil {
		return id, &Error{Op: "read the cluster's identity", Host: res.host, Index: c.index, Status: res.status, kind: ErrBadResponse, err: err,
			Reason: "the answer is not Elasticsearch's root document"}
	}
	return id, nil
}

// Key names what the cache holds from this source for a selection: the
// cluster's identity, the index pattern and the selection. It holds no URL
// or credential, so the same cluster reached another way shares its cache.
func (s *Source) Key(sel sources.Selection) string {
	return fmt.Sprintf("elasticsearch cluster=%s index=%s selection=%s", s.cluster, s.c.index, cache.SelectionName(sel))
}

// Mapping says whether the data uses ECS or Auditbeat 6.x field names.
func (s *Source) Mapping() Mapping { return s.plan.mapping }

// Index is the index pattern read.
func (s *Source) Index() string { return s.c.index }

// String describes the source for status lines: cluster, version, pattern
// and mapping (the cluster's name is sanitized).
func (s *Source) String() string {
	return fmt.Sprintf("elasticsearch %s (cluster %q, %s) index %s, %s fields", s.c.firstURL, s.name, s.version, s.c.index, s.plan.mapping)
}
