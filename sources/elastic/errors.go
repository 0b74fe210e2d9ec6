package elastic

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Kinds of failure callers may test for with errors.Is.
var (
	ErrUnreachable   = errors.New("cluster unreachable")
	ErrTimeout       = errors.New("request timed out")
	ErrUnauthorized  = errors.New("authentication failed")
	ErrForbidden     = errors.New("permission denied")
	ErrIndexNotFound = errors.New("index not found")
	ErrUnavailable   = errors.New("cluster overloaded or unavailable")
	ErrBadResponse   = errors.New("unexpected response")
	ErrRequest       = errors.New("request refused")
)

// Error is a failed request to the cluster, said so that the analyst can act
// on it: which node, which index pattern, what was being done, the HTTP
// status, the cluster's reason, and what to do. It never holds a credential.
type Error struct {
	Op       string // what was being done, e.g. "aggregate bucket counts"
	Host     string // the node's URL, without user info
	Index    string // the index pattern
	Status   int    // HTTP status; 0 when no answer came
	Attempts int    // requests made, retries included
	Reason   string // the cluster's reason, sanitized, or the network error
	Advice   string // what to do
	kind     error
	err      error

	errType    string        // the cluster's error type, e.g. index_not_found_exception
	privilege  string        // what a 403 most likely lacks, when the cluster does not say
	retryAfter time.Duration // the cluster's Retry-After, when it gave one
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "elasticsearch %s, index %s: %s: ", e.Host, e.Index, e.Op)
	if e.Status != 0 {
		fmt.Fprintf(&b, "HTTP %d %s", e.Status, http.StatusText(e.Status))
	} else if e.kind != nil {
		b.WriteString(e.kind.Error())
	} else {
		b.WriteString("failed")
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	if e.Reason != "" {
		b.WriteString(": ")
		b.WriteString(e.Reason)
	}
	if e.Advice != "" {
		b.WriteString(". ")
		b.WriteString(e.Advice)
	}
	return b.String()
}

// Unwrap gives the kind (ErrForbidden, ...) and the underlying error.
func (e *Error) Unwrap() []error {
	var out []error
	for _, err := range []error{e.kind, e.err} {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// errorBody is Elasticsearch's error document.
type errorBody struct {
	Error struct {
		Type      string `json:"type"`
		Reason    string `json:"reason"`
		Index     string `json:"index"`
		RootCause []struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"root_cause"`
	} `json:"error"`
}

// parseErrorBody takes the type and reason out of an error answer; an answer
// that is not Elasticsearch's error document gives its start as the reason
// (a proxy's HTML page, for instance).
func parseErrorBody(body []byte) (typ, reason string) {
	var eb errorBody
	if err := json.Unmarshal(body, &eb); err == nil && (eb.Error.Type != "" || eb.Error.Reason != "") {
		typ, reason = eb.Error.Type, eb.Error.Reason
		// "all shards failed" says little: the first root cause says why.
		if rc := eb.Error.RootCause; len(rc) > 0 && rc[0].Reason != "" && rc[0].Reason != reason {
			if reason == "" {
				reason = rc[0].Reason
			} else {
				reason += " (first cause: " + rc[0].Type + ": " + rc[0].Reason + ")"
			}
		}
		return clean(typ, 80), clean(reason, 600)
	}
	var plain struct {
		Error string `json:"error"`
	}
	if err := json.Unmarshal(body, &plain); err == nil && plain.Error != "" {
		return "", clean(plain.Error, 600)
	}
	return "", clean(string(body), 200)
}

// clean makes text from the cluster safe for a terminal: control characters
// (escape sequences) and invalid UTF-8 become U+FFFD, runs of space shrink,
// and it is cut at max runes. Reasons quote field values, which audit data
// controls.
func clean(s string, max int) string {
	var b strings.Builder
	n := 0
	space := false
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch {
		case r == utf8.RuneError && size <= 1:
			r = unicode.ReplacementChar
		case unicode.IsSpace(r):
			if space || n == 0 {
				continue
			}
			space = true
			b.WriteByte(' ')
			n++
			continue
		case !unicode.IsPrint(r):
			r = unicode.ReplacementChar
		}
		space = false
		if n == max {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		n++
	}
	return strings.TrimRight(b.String(), " ")
}

var (
	grantedBy    = regexp.MustCompile(`granted by the (index|cluster) privileges \[([^\]]*)\]`)
	deniedAction = regexp.MustCompile(`action \[([^\]]*)\]`)
)

// missingPrivilege says which privilege a 403 lacks: from the cluster's own
// words when it names them, else from what the request needs.
func missingPrivilege(reason, needed string) string {
	if m := grantedBy.FindStringSubmatch(reason); m != nil {
		privs := strings.Split(m[2], ",")
		first := strings.TrimSpace(privs[0])
		action := ""
		if a := deniedAction.FindStringSubmatch(reason); a != nil {
			action = fmt.Sprintf(" (action %s)", a[1])
		}
		return fmt.Sprintf("the %s privilege %q is missing%s", m[1], first, action)
	}
	return "the " + needed + " is missing"
}
