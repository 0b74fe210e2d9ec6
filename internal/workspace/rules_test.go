package workspace

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/engine"
	"github.com/auditlens/auditlens/views/model"
)

func TestPatternMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"/opt/app/bin/app-v2.4.1", "/opt/app/bin/app-v2.4.1", true},
		{"/opt/app/bin/app-v2.4.1", "/opt/app/bin/app-v2.4.10", false},
		{"/opt/app/bin/app-v2.4.1", "x/opt/app/bin/app-v2.4.1", false},
		{"/opt/app/bin/*", "/opt/app/bin/app-v2.4.1", true},
		{"/opt/*/app-*", "/opt/app/bin/app-v2.4.1", true}, // * crosses slashes
		{"/opt/app/bin/*", "/opt/app/sbin/x", false},
		{"*", "", true},
		{"*", "anything/at/all", true},
		{"", "", true},
		{"", "x", false},
		{"web-*", "web-01", true},
		{"web-*", "db-01", false},
		{"web-0?", "web-01", true},
		{"web-0?", "web-011", false},
		{"web-0?", "web-0", false},
		{"h?st", "hüst", true}, // ? is one character, not one byte
		{"*.sh", "/tmp/a.sh", true},
		{"*.sh", "/tmp/a.shx", false},
		{"a*b*c", "aXbYbZc", true},
		{"a*b*c", "aXbYbZ", false},
		{"**", "x", true},
		{`\*`, "*", true},
		{`\*`, "x", false},
		{`a\?`, "a?", true},
		{`a\?`, "ab", false},
		{`c:\\x`, `c:\x`, true},
		{"*aaa*aaa*b", strings.Repeat("a", 200), false},
	}
	for _, tt := range tests {
		p, err := compilePattern(tt.pattern)
		if err != nil {
			t.Fatalf("%q: %v", tt.pattern, err)
		}
		if got := p.match(tt.s); got != tt.want {
			t.Errorf("%q matches %q = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
	if _, err := compilePattern(`/bin/x\`); err == nil {
		t.Error("a trailing backslash compiled")
	}
}

// patternRegexp is the reference semantics of a pattern.
func patternRegexp(p string) (*regexp.Regexp, bool) {
	var b strings.Builder
	b.WriteString(`(?s)^`)
	for i := 0; i < len(p); i++ {
		switch p[i] {
		case '*':
			b.WriteString(`.*`)
		case '?':
			b.WriteString(`.`)
		case '\\':
			if i+1 == len(p) {
				return nil, false
			}
			i++
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		default:
			b.WriteString(regexp.QuoteMeta(p[i : i+1]))
		}
	}
	b.WriteString(`$`)
	re, err := regexp.Compile(b.String())
	return re, err == nil
}

// FuzzPattern checks the matcher against regular expressions on valid
// UTF-8, and that it never panics on anything.
func FuzzPattern(f *testing.F) {
	for _, s := range [][2]string{{"/opt/*/app-?", "/opt/app/bin/app-v"}, {"web-*", "web-01"}, {`a\*b`, "a*b"}, {"*a*", "bab"}, {"?", "é"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pat, s string) {
		p, err := compilePattern(pat)
		if !utf8Valid(pat) || !utf8Valid(s) {
			// regexp refuses or rewrites invalid UTF-8: only the absence
			// of panics counts.
			if err == nil {
				p.match(s)
			}
			return
		}
		re, ok := patternRegexp(pat)
		if (err == nil) != ok {
			t.Fatalf("pattern %q: compile error %v, reference ok %v", pat, err, ok)
		}
		if err != nil {
			return
		}
		got := p.match(s)
		if want := re.MatchString(s); got != want {
			t.Fatalf("%q matches %q = %v, reference says %v", pat, s, got, want)
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func TestSkipsRecord(t *testing.T) {
	rare := engine.Record{JobID: "host_rare_process", PartitionFieldValue: "web-01", ByFieldValue: "/opt/app/bin/app-v2.4.1"}
	rate := engine.Record{JobID: "host_high_process_rate", PartitionFieldValue: "web-01",
		Influencers: []engine.Influencer{{FieldName: engine.FieldHostName, FieldValues: []string{"web-01"}},
			{FieldName: engine.FieldExecutable, FieldValues: []string{"/usr/bin/ssh", "/usr/bin/scp"}}}}
	plainRate := engine.Record{JobID: "host_high_process_rate", PartitionFieldValue: "db-01"}
	fleetRare := engine.Record{JobID: "host_rare_process", ByFieldValue: "/x", Entity: "web-01",
		Influencers: []engine.Influencer{{FieldName: engine.FieldHostName, FieldValues: []string{"web-01", "db-01"}}}}
	future := time.Now().Add(time.Hour)
	tests := []struct {
		name   string
		rule   cache.Rule
		record engine.Record
		scope  engine.Scope
		want   bool
	}{
		{"exact executable", cache.Rule{Executable: "/opt/app/bin/app-v2.4.1"}, rare, engine.ScopeHost, true},
		{"other executable", cache.Rule{Executable: "/opt/app/bin/app-v2.3.7"}, rare, engine.ScopeHost, false},
		{"glob", cache.Rule{Executable: "/opt/app/bin/*"}, rare, engine.ScopeHost, true},
		{"host scope", cache.Rule{Executable: "/opt/app/bin/*", Scope: "host"}, rare, engine.ScopeHost, true},
		{"container scope on a host job", cache.Rule{Executable: "/opt/app/bin/*", Scope: "container"}, rare, engine.ScopeHost, false},
		{"entity pattern", cache.Rule{Executable: "/opt/app/bin/*", Entity: "web-*"}, rare, engine.ScopeHost, true},
		{"other entities", cache.Rule{Executable: "/opt/app/bin/*", Entity: "db-*"}, rare, engine.ScopeHost, false},
		{"until later", cache.Rule{Executable: "/opt/app/bin/*", Until: future}, rare, engine.ScopeHost, true},
		{"rate, every driver covered", cache.Rule{Executable: "/usr/bin/sc?"}, rate, engine.ScopeHost, false},
		{"rate, both drivers covered", cache.Rule{Executable: "/usr/bin/s*"}, rate, engine.ScopeHost, true},
		{"rate without drivers, named", cache.Rule{Executable: "/usr/bin/ssh"}, plainRate, engine.ScopeHost, false},
		{"rate without drivers, star", cache.Rule{Executable: "*", Entity: "db-01"}, plainRate, engine.ScopeHost, true},
		{"partition none, one host outside", cache.Rule{Executable: "/x", Entity: "web-*"}, fleetRare, engine.ScopeHost, false},
		{"partition none, all hosts inside", cache.Rule{Executable: "/x", Entity: "*-01"}, fleetRare, engine.ScopeHost, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.rule
			r.ID, r.Action = "r1", cache.RuleSkipResult
			if r.Scope == "" {
				r.Scope = cache.RuleScopeAny
			}
			rs, err := compileRules([]cache.Rule{r}, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			id, got := rs.skipsRecord(tt.record, tt.scope)
			if got != tt.want || (got && id != "r1") {
				t.Errorf("skips = %v (%q), want %v", got, id, tt.want)
			}
		})
	}
	// A rule whose time is up does nothing; a model rule hides no record.
	past := cache.Rule{ID: "r2", Executable: "*", Scope: cache.RuleScopeAny, Action: cache.RuleSkipResult, Until: time.Now().Add(-time.Minute)}
	model := cache.Rule{ID: "r3", Executable: "*", Scope: cache.RuleScopeAny, Action: cache.RuleSkipModelUpdate}
	rs, err := compileRules([]cache.Rule{past, model}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := rs.skipsRecord(rare, engine.ScopeHost); ok {
		t.Error("an expired or model rule hid a record")
	}
	if !rs.skipsCount(engine.Count{Scope: engine.ScopeHost, Entity: "web-01", Executable: "/bin/ls"}) {
		t.Error("the model rule let a count through")
	}
}

// countBy counts the records a predicate picks.
func countBy(rs []engine.Record, f func(engine.Record) bool) int {
	n := 0
	for _, r := range rs {
		if f(r) {
			n++
		}
	}
	return n
}

const rolloutBinary = "/opt/app/bin/app-v2.4.1"

// coveredByRollout is what a fleet-wide rule on the rollout binary covers:
// rare records of it, rate records it alone drove.
func coveredByRollout(r engine.Record) bool {
	exes := recordExecutables(r)
	return len(exes) > 0 && !slices.ContainsFunc(exes, func(e string) bool { return e != rolloutBinary })
}

func TestSkipResultRuleOnTheRollout(t *testing.T) {
	ws, _ := openDemo(t)
	ctx := context.Background()
	type before struct {
		scan    Scan
		records []engine.Record
		covered int
	}
	var jobs []before
	total := 0
	for _, job := range engine.Jobs() {
		s := Scan{Job: job, Options: engine.DefaultOptions()}
		out, err := ws.Detect(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		n := countBy(out.Results.Records, coveredByRollout)
		total += n
		jobs = append(jobs, before{s, out.Results.Records, n})
	}
	t.Logf("records a rule on the rollout binary covers, by job: %v", func() []int {
		var n []int
		for _, b := range jobs {
			n = append(n, b.covered)
		}
		return n
	}())
	if total < 3 {
		t.Fatalf("the demo has %d records of the rollout binary; the test needs several", total)
	}
	rule, err := ws.SaveRule(ctx, cache.Rule{Executable: rolloutBinary, Scope: cache.RuleScopeAny, Action: cache.RuleSkipResult, Note: "release 2.4.1"})
	if err != nil {
		t.Fatal(err)
	}
	suppressed := 0
	for _, b := range jobs {
		out, err := ws.Detect(ctx, b.scan)
		if err != nil {
			t.Fatal(err)
		}
		if !out.Cached {
			t.Errorf("%s: a result rule made the job run again", b.scan.Job.ID)
		}
		if n := countBy(out.Results.Records, coveredByRollout); n != 0 {
			t.Errorf("%s: %d rollout records still shown", b.scan.Job.ID, n)
		}
		if len(out.Suppressed) != b.covered || len(out.Results.Records)+len(out.Suppressed) != len(b.records) {
			t.Errorf("%s: %d suppressed and %d shown, want %d suppressed of %d", b.scan.Job.ID, len(out.Suppressed),
				len(out.Results.Records), b.covered, len(b.records))
		}
		for _, sr := range out.Suppressed {
			if sr.Rule != rule.ID || !coveredByRollout(sr.Record) {
				t.Errorf("suppressed %s by %s", AnomalyID(sr.Record), sr.Rule)
			}
		}
		// No bucket scores above what is shown.
		shown := map[int64]float64{}
		for _, r := range out.Results.Records {
			shown[r.Timestamp] = max(shown[r.Timestamp], r.RecordScore)
		}
		for _, bk := range out.Results.Buckets {
			if bk.AnomalyScore != shown[bk.Timestamp] {
				t.Fatalf("%s: bucket %d scores %.1f, its shown records %.1f", b.scan.Job.ID, bk.Timestamp, bk.AnomalyScore, shown[bk.Timestamp])
			}
		}
		for _, in := range out.Results.Influencers {
			if in.FieldName == engine.FieldExecutable && in.FieldValue == rolloutBinary && b.scan.Job.Function == engine.FunctionRare {
				t.Fatalf("%s: the rollout binary is still an influencer at %d", b.scan.Job.ID, in.Timestamp)
			}
		}
		suppressed += len(out.Suppressed)
	}
	if suppressed != total {
		t.Errorf("%d suppressed over the jobs, want %d", suppressed, total)
	}

	// The console hides them from the swimlane, the table and the charts,
	// and counts them.
	con := NewConsole(ws, ConsoleSettings{Options: engine.DefaultOptions()})
	q := model.Query{Job: "host_rare_process", Scope: model.ScopeHost}
	lane, err := con.Swimlane(ctx, q, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := con.Anomalies(ctx, model.AnomalyQuery{Job: "host_rare_process", Scope: model.ScopeHost})
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range rows {
		if a.Executable == rolloutBinary {
			t.Fatalf("the table shows %s", a.ID)
		}
	}
	n, err := con.SuppressedCount(ctx, q)
	if err != nil || n != jobs[0].covered {
		t.Errorf("SuppressedCount %d (%v), want %d", n, err, jobs[0].covered)
	}
	hidden, err := con.SuppressedAnomalies(ctx, model.AnomalyQuery{Job: "host_rare_process", Scope: model.ScopeHost})
	if err != nil || len(hidden) != n {
		t.Errorf("SuppressedAnomalies %d (%v), want %d", len(hidden), err, n)
	}
	first := jobs[0].records[slices.IndexFunc(jobs[0].records, coveredByRollout)]
	chart, err := con.RareChart(ctx, model.RareChartQuery{Job: "host_rare_process", Scope: model.ScopeHost,
		Entity: first.PartitionFieldValue, BucketSpan: lane.Axis.BucketSpan})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range chart.Marks {
		if m.Executable == rolloutBinary {
			t.Errorf("the rare chart marks the suppressed rollout on %s", first.PartitionFieldValue)
		}
	}

	// Removing the rule brings every record back, at once.
	if err := con.RemoveRule(ctx, rule.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := con.SuppressedCount(ctx, q); err != nil || n != 0 {
		t.Errorf("after removal SuppressedCount %d (%v)", n, err)
	}
	for _, b := range jobs {
		out, err := ws.Detect(ctx, b.scan)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Suppressed) != 0 || len(out.Results.Records) != len(b.records) {
			t.Errorf("%s after removal: %d records, %d suppressed; want %d and none", b.scan.Job.ID,
				len(out.Results.Records), len(out.Suppressed), len(b.records))
		}
	}

	// A rule whose time is up hides nothing; a scoped one hides only its hosts.
	if _, err := ws.SaveRule(ctx, cache.Rule{Executable: rolloutBinary, Scope: "host", Action: cache.RuleSkipResult,
		Until: time.Now().Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	out, err := ws.Detect(ctx, jobs[0].scan)
	if err != nil || len(out.Suppressed) != 0 {
		t.Errorf("an expired rule suppressed %d (%v)", len(out.Suppressed), err)
	}
	scoped, err := ws.SaveRule(ctx, cache.Rule{Executable: rolloutBinary, Scope: "host", Entity: first.PartitionFieldValue, Action: cache.RuleSkipResult})
	if err != nil {
		t.Fatal(err)
	}
	out, err = ws.Detect(ctx, jobs[0].scan)
	if err != nil {
		t.Fatal(err)
	}
	want := countBy(jobs[0].records, func(r engine.Record) bool {
		return coveredByRollout(r) && r.PartitionFieldValue == first.PartitionFieldValue
	})
	if len(out.Suppressed) != want || want == 0 {
		t.Errorf("a rule on %s suppressed %d, want %d", first.PartitionFieldValue, len(out.Suppressed), want)
	}
	if err := ws.Store.RemoveRule(ctx, scoped.ID); err != nil {
		t.Fatal(err)
	}
}

func TestSkipModelUpdateScoresAgain(t *testing.T) {
	ws, _ := openDemo(t)
	ctx := context.Background()
	job, _ := engine.JobByID("host_rare_process")
	s := Scan{Job: job, Options: engine.DefaultOptions()}
	first, err := ws.Detect(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if countBy(first.Results.Records, coveredByRollout) == 0 {
		t.Fatal("no rollout records to begin with")
	}
	rule, err := ws.SaveRule(ctx, cache.Rule{Executable: rolloutBinary, Scope: cache.RuleScopeAny, Action: cache.RuleSkipModelUpdate})
	if err != nil {
		t.Fatal(err)
	}
	second, err := ws.Detect(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if second.Cached {
		t.Error("a model rule was answered from the results without it")
	}
	if n := countBy(second.Results.Records, func(r engine.Record) bool { return slices.Contains(recordExecutables(r), rolloutBinary) }); n != 0 {
		t.Errorf("%d records still name the rollout binary", n)
	}
	if len(second.Suppressed) != 0 {
		t.Errorf("a model rule counted %d records as suppressed", len(second.Suppressed))
	}
	again, err := ws.Detect(ctx, s)
	if err != nil || !again.Cached {
		t.Errorf("the same model rules again: cached %v (%v)", again.Cached, err)
	}
	// The rate model of a host leaves the binary out too.
	rate, _ := engine.JobByID("host_high_process_rate")
	host := first.Results.Records[slices.IndexFunc(first.Results.Records, coveredByRollout)].PartitionFieldValue
	with, err := ws.RateModel(ctx, Scan{Job: rate, Options: engine.DefaultOptions()}, host)
	if err != nil {
		t.Fatal(err)
	}
	if err := ws.Store.RemoveRule(ctx, rule.ID); err != nil {
		t.Fatal(err)
	}
	without, err := ws.RateModel(ctx, Scan{Job: rate, Options: engine.DefaultOptions()}, host)
	if err != nil {
		t.Fatal(err)
	}
	var a, b float64
	for i := range with {
		a += with[i].Actual
	}
	for i := range without {
		b += without[i].Actual
	}
	if a >= b {
		t.Errorf("rate model of %s: %.0f executions with the model rule, %.0f without", host, a, b)
	}
	back, err := ws.Detect(ctx, s)
	if err != nil || !back.Cached || len(back.Results.Records) != len(first.Results.Records) {
		t.Errorf("after removal: cached %v, %d records (want the first %d) %v", back.Cached, len(back.Results.Records), len(first.Results.Records), err)
	}
}

func TestRuleFileRoundTrip(t *testing.T) {
	ctx := context.Background()
	src := New(openStoreT(t))
	until := time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC)
	for _, r := range []cache.Rule{
		{Executable: rolloutBinary, Scope: cache.RuleScopeAny, Action: cache.RuleSkipResult, Note: "release 2.4.1"},
		{Executable: "/usr/lib/apt/methods/*", Scope: "host", Entity: "nyc2-*", Action: cache.RuleSkipModelUpdate, Until: until},
		{Executable: `/weird/\*name`, Scope: "container", Action: cache.RuleSkipResult, Note: "ünïcode \x1b[31m"},
	} {
		if _, err := src.SaveRule(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := src.ExportRules(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseRules(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	dst := New(openStoreT(t))
	if _, err := dst.ImportRules(ctx, parsed); err != nil {
		t.Fatal(err)
	}
	// Importing twice replaces rather than doubles.
	if _, err := dst.ImportRules(ctx, parsed); err != nil {
		t.Fatal(err)
	}
	want, _ := src.Store.Rules(ctx)
	got, _ := dst.Store.Rules(ctx)
	if len(got) != len(want) {
		t.Fatalf("%d rules imported, want %d", len(got), len(want))
	}
	for i := range want {
		w, g := want[i], got[i]
		if w.ID != g.ID || w.Executable != g.Executable || w.Scope != g.Scope || w.Entity != g.Entity || w.Action != g.Action ||
			!w.Until.Equal(g.Until) || w.Note != g.Note || !w.Created.Equal(g.Created) {
			t.Errorf("rule %d: exported %+v, imported %+v", i, w, g)
		}
	}
	var empty bytes.Buffer
	if err := New(openStoreT(t)).ExportRules(ctx, &empty); err != nil || !strings.Contains(empty.String(), `"rules": []`) {
		t.Errorf("empty export %q (%v)", empty.String(), err)
	}
}

func TestParseRulesRefuses(t *testing.T) {
	good := `{"format":"auditlens-rules","version":1,"rules":[{"executable":"/x","scope":"any","action":"skip_result"}]}`
	if rules, err := ParseRules(strings.NewReader(good)); err != nil || len(rules) != 1 {
		t.Fatalf("good file: %v %v", rules, err)
	}
	tests := []struct{ name, doc, want string }{
		{"not JSON", "executable: /x", "not an auditlens rule file"},
		{"YAML-ish", "rules:\n- executable: /x\n", "not an auditlens rule file"},
		{"other format", `{"format":"other","version":1,"rules":[]}`, "format"},
		{"newer", `{"format":"auditlens-rules","version":9,"rules":[]}`, "newer auditlens"},
		{"no version", `{"format":"auditlens-rules","rules":[]}`, "version"},
		{"unknown field", `{"format":"auditlens-rules","version":1,"rules":[{"executable":"/x","scope":"any","action":"skip_result","hosts":"web"}]}`, "unknown field"},
		{"bad scope", `{"format":"auditlens-rules","version":1,"rules":[{"executable":"/x","scope":"pod","action":"skip_result"}]}`, "scope"},
		{"bad action", `{"format":"auditlens-rules","version":1,"rules":[{"executable":"/x","scope":"any","action":"drop"}]}`, "action"},
		{"no executable", `{"format":"auditlens-rules","version":1,"rules":[{"scope":"any","action":"skip_result"}]}`, "executable"},
		{"bad pattern", `{"format":"auditlens-rules","version":1,"rules":[{"executable":"/x\\","scope":"any","action":"skip_result"}]}`, "backslash"},
		{"twice the id", `{"format":"auditlens-rules","version":1,"rules":[{"id":"r1","executable":"/x","scope":"any","action":"skip_result"},{"id":"r1","executable":"/y","scope":"any","action":"skip_result"}]}`, "twice"},
		{"two documents", good + good, "more than one"},
		{"bad until", `{"format":"auditlens-rules","version":1,"rules":[{"executable":"/x","scope":"any","action":"skip_result","until":"soon"}]}`, "not an auditlens rule file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseRules(strings.NewReader(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
	big := strings.Repeat(" ", maxRuleFile+10)
	if _, err := ParseRules(strings.NewReader(big)); err == nil || !strings.Contains(err.Error(), "MiB") {
		t.Errorf("oversized file: %v", err)
	}
}

// FuzzParseRules: any input is refused or gives rules that pass CheckRule
// and survive an export and a parse unchanged.
func FuzzParseRules(f *testing.F) {
	f.Add([]byte(`{"format":"auditlens-rules","version":1,"rules":[{"id":"r1","executable":"/opt/*","scope":"host","entity":"web-?","action":"skip_model_update","until":"2030-01-01T00:00:00Z","note":"n"}]}`))
	f.Add([]byte(`{"format":"auditlens-rules","version":1,"rules":[]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rules, err := ParseRules(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, r := range rules {
			if err := CheckRule(r); err != nil {
				t.Fatalf("parsed a rule that fails its check: %v", err)
			}
		}
		var buf bytes.Buffer
		if err := writeRuleFile(&buf, rules); err != nil {
			t.Fatal(err)
		}
		again, err := ParseRules(&buf)
		if err != nil {
			t.Fatalf("re-parse: %v\n%s", err, buf.String())
		}
		if len(again) != len(rules) {
			t.Fatalf("%d rules after a round trip, want %d", len(again), len(rules))
		}
		for i := range rules {
			a, b := rules[i], again[i]
			if a.ID != b.ID || a.Executable != b.Executable || a.Entity != b.Entity || !a.Until.Equal(b.Until) || a.Note != b.Note {
				t.Fatalf("rule %d changed: %+v -> %+v", i, a, b)
			}
		}
	})
}

func TestRemoveUnknownRule(t *testing.T) {
	ws := New(openStoreT(t))
	if err := ws.Store.RemoveRule(context.Background(), "rnope"); !errors.Is(err, cache.ErrNoRule) {
		t.Errorf("removing an unknown rule: %v", err)
	}
}

// BenchmarkModelRulesFilter measures the count stream through three model
// rules (an exact path, a glob, an entity-scoped glob), as a job's counts
// pass them on their way to the engine.
func BenchmarkModelRulesFilter(b *testing.B) {
	rs, err := compileRules([]cache.Rule{
		{ID: "r1", Executable: rolloutBinary, Scope: cache.RuleScopeAny, Action: cache.RuleSkipModelUpdate},
		{ID: "r2", Executable: "/usr/lib/apt/methods/*", Scope: "host", Action: cache.RuleSkipModelUpdate},
		{ID: "r3", Executable: "/usr/bin/*sh", Scope: "host", Entity: "nyc2-db*", Action: cache.RuleSkipModelUpdate},
	}, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	exes := []string{"/usr/bin/dash", "/usr/bin/ssh", "/usr/lib/apt/methods/http", rolloutBinary, "/usr/sbin/nginx", "/usr/bin/python3.10"}
	hosts := []string{"nyc2-db01", "nyc2-front02", "nyc2-mail03", "3a30127937b1"}
	counts := make([]engine.Count, 0, len(exes)*len(hosts))
	for _, h := range hosts {
		for _, x := range exes {
			counts = append(counts, engine.Count{Scope: engine.ScopeHost, Entity: h, Executable: x, Count: 1})
		}
	}
	iterate := rs.filterCounts(func(yield func(engine.Count) error) error {
		for i := range counts {
			if err := yield(counts[i]); err != nil {
				return err
			}
		}
		return nil
	})
	b.ResetTimer()
	kept := 0
	for range b.N {
		if err := iterate(func(engine.Count) error { kept++; return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(counts)), "ns/count")
}
