package elastic

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/auditlens/auditlens/sources"
)

// terminalSafe says whether s may be printed: valid UTF-8 without control
// characters.
func terminalSafe(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if !unicode.IsPrint(r) && r != ' ' {
			return false
		}
	}
	return true
}

// Error answers come from the cluster or from whatever stands in front of
// it; their reasons quote attacker-controlled values.
func FuzzParseErrorBody(f *testing.F) {
	f.Add([]byte(`{"error":{"type":"security_exception","reason":"action [indices:data/read/search] is unauthorized, this action is granted by the index privileges [read,all]"},"status":403}`))
	f.Add([]byte(`{"error":{"root_cause":[{"type":"a","reason":"b"}],"type":"c","reason":"d"}}`))
	f.Add([]byte(`{"error":"plain"}`))
	f.Add([]byte("<html>\x1b[31m</html>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		typ, reason := parseErrorBody(body)
		if !terminalSafe(typ) || !terminalSafe(reason) {
			t.Fatalf("unsafe output %q %q", typ, reason)
		}
		if utf8.RuneCountInString(reason) > 700 {
			t.Fatalf("reason of %d runes", utf8.RuneCountInString(reason))
		}
		if p := missingPrivilege(reason, "x"); !terminalSafe(p) {
			t.Fatalf("unsafe privilege text %q", p)
		}
	})
}

// Aggregation pages are decoded from the cluster's answer.
func FuzzCompositePage(f *testing.F) {
	f.Add([]byte(`{"aggregations":{"b":{"after_key":{"t":60000},"buckets":[{"key":{"t":60000,"h":"web-1","c":"api","x":"/bin/ls"},"doc_count":2}]}}}`))
	f.Add([]byte(`{"_shards":{"total":2,"failed":1,"failures":[{"index":"i","reason":{"type":"t","reason":"r"}}]},"aggregations":{"b":{"buckets":[{"key":{"t":"x"}}]}}}`))
	f.Add([]byte(`{"aggregations":{"b":{"buckets":[{"key":{"t":120000,"h":null,"h1":7,"x":[1],"x1":"/bin/sh"},"doc_count":-1}]}}}`))
	l := &countLoad{
		host:      []field{{doc: "host.name"}, {doc: "agent.hostname"}},
		container: []field{{doc: "container.name"}, {doc: "container.id", part: partID}, {doc: "container.runtime", part: partRuntime}},
		exe:       []field{{doc: "process.executable"}, {doc: "process.exe"}},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var page compositePage
		if json.Unmarshal(data, &page) != nil {
			return
		}
		if why := page.incomplete(); !terminalSafe(why) {
			t.Fatalf("unsafe shard failure text %q", why)
		}
		for _, b := range page.Aggregations.B.Buckets {
			for _, ps := range []pass{{true, sources.ScopeHost}, {false, sources.ScopeContainer}} {
				c, ok, err := l.bucket(b.Key, b.DocCount, ps)
				if err != nil && ok {
					t.Fatal("a bucket both failed and counted")
				}
				if ok && (c.Executable == "" || c.Minute%60 != 0 || c.Scope != ps.scope) {
					t.Fatalf("bad count %+v", c)
				}
				if err != nil && !strings.Contains(err.Error(), "bucket time") {
					t.Fatalf("unexpected error %v", err)
				}
			}
		}
	})
}

// Field capabilities decide the plan; odd mappings must give a plan or a
// problem, never a panic or a plan without an executable.
func FuzzPlanFields(f *testing.F) {
	f.Add([]byte(`{"indices":["a"],"fields":{"@timestamp":{"date":{"type":"date","aggregatable":true}},"process.executable":{"keyword":{"type":"keyword","aggregatable":true}}}}`))
	f.Add([]byte(`{"indices":["a"],"fields":{"@timestamp":{"keyword":{"type":"keyword"}},"host.name":{"text":{"type":"text"}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var fc fieldCaps
		if json.Unmarshal(data, &fc) != nil {
			return
		}
		p, problem := planFields(fc)
		if problem == "" && (p == nil || len(p.exe) == 0 || p.time == "" || p.mapping == "") {
			t.Fatalf("plan %+v without a problem", p)
		}
		if problem != "" && !terminalSafe(problem) {
			t.Fatalf("problem %q", problem)
		}
	})
}
