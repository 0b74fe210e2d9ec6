package workspace

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/auditlens/auditlens/cache"
	"github.com/auditlens/auditlens/engine"
)

// Suppression rules, like Elastic's job rules with filter lists: an analyst
// declares an executable benign, everywhere or on hosts or containers whose
// names match a pattern, maybe until a date. skip_result rules hide the
// matching records at answer time, over the whole range and at once (the
// cached result sets stay valid, and removing a rule brings the records
// back); skip_model_update rules keep the matching executions away from the
// models, so they are part of what a result set is keyed on and the job is
// scored again.

// pattern is a compiled executable or entity pattern: * matches any run of
// characters (slashes too), ? one character, \ makes the next character
// literal; everything else matches itself, so a path without wildcards is an
// exact match.
type pattern struct {
	toks []patternToken
}

type patternToken struct {
	star bool   // any run of characters
	one  bool   // exactly one character
	text string // a literal run
}

// compilePattern reads a pattern; a trailing lone backslash is an error.
func compilePattern(p string) (pattern, error) {
	var out pattern
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			out.toks = append(out.toks, patternToken{text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '*':
			flush()
			if n := len(out.toks); n == 0 || !out.toks[n-1].star { // ** is *
				out.toks = append(out.toks, patternToken{star: true})
			}
		case '?':
			flush()
			out.toks = append(out.toks, patternToken{one: true})
		case '\\':
			if i+1 == len(p) {
				return out, fmt.Errorf("pattern %q ends in a lone backslash", p)
			}
			i++
			lit.WriteByte(p[i])
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	return out, nil
}

// match reports whether s matches the whole pattern. A star first takes
// nothing and then one more character at each retry, so the work is bounded
// by len(pattern) x len(s), whatever the input.
func (p pattern) match(s string) bool {
	pi, si := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p.toks) {
			t := p.toks[pi]
			switch {
			case t.star:
				starP, starS = pi, si
				pi++
				continue
			case t.one:
				_, n := utf8.DecodeRuneInString(s[si:])
				si += n
				pi++
				continue
			case strings.HasPrefix(s[si:], t.text):
				si += len(t.text)
				pi++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		si, pi = starS, starP+1
	}
	for pi < len(p.toks) && p.toks[pi].star {
		pi++
	}
	return pi == len(p.toks)
}

// CheckRule reports what is wrong with a rule, if anything: its fields, and
// its patterns.
func CheckRule(r cache.Rule) error {
	if err := r.Check(); err != nil {
		return err
	}
	for _, p := range []string{r.Executable, r.Entity} {
		if _, err := compilePattern(p); err != nil {
			return fmt.Errorf("rule %s: %w", r.ID, err)
		}
	}
	return nil
}

// activeRule is a rule in force, compiled.
type activeRule struct {
	rule       cache.Rule
	exe        pattern
	entity     pattern
	anyEntity  bool
	exeMatches map[string]bool // memo: executables repeat in every bucket
}

// ruleSet is the rules in force at one moment, by what they do.
type ruleSet struct {
	result []*activeRule
	model  []*activeRule
}

// rulesInForce reads the store's rules and keeps those active at now.
func (w *Workspace) rulesInForce(ctx context.Context, now time.Time) (ruleSet, error) {
	rules, err := w.Store.Rules(ctx)
	if err != nil {
		return ruleSet{}, err
	}
	return compileRules(rules, now)
}

func compileRules(rules []cache.Rule, now time.Time) (ruleSet, error) {
	var rs ruleSet
	for _, r := range rules {
		if !r.Active(now) {
			continue
		}
		a := &activeRule{rule: r, anyEntity: r.Entity == "", exeMatches: map[string]bool{}}
		var err error
		if a.exe, err = compilePattern(r.Executable); err != nil {
			return rs, fmt.Errorf("rule %s: %w", r.ID, err)
		}
		if a.entity, err = compilePattern(r.Entity); err != nil {
			return rs, fmt.Errorf("rule %s: %w", r.ID, err)
		}
		switch r.Action {
		case cache.RuleSkipResult:
			rs.result = append(rs.result, a)
		case cache.RuleSkipModelUpdate:
			rs.model = append(rs.model, a)
		}
	}
	return rs, nil
}

func (a *activeRule) scoped(scope engine.Scope) bool {
	return a.rule.Scope == cache.RuleScopeAny || a.rule.Scope == string(scope)
}

func (a *activeRule) matchesExecutable(exe string) bool {
	m, ok := a.exeMatches[exe]
	if !ok {
		m = a.exe.match(exe)
		a.exeMatches[exe] = m
	}
	return m
}

// skipsCount says whether a model rule keeps a count from the models.
func (rs ruleSet) skipsCount(c engine.Count) bool {
	for _, a := range rs.model {
		if a.scoped(c.Scope) && (a.anyEntity || a.entity.match(c.Entity)) && a.matchesExecutable(c.Executable) {
			return true
		}
	}
	return false
}

// filterCounts wraps a count stream so the model rules' counts never reach
// the engine.
func (rs ruleSet) filterCounts(iterate func(yield func(engine.Count) error) error) func(yield func(engine.Count) error) error {
	if len(rs.model) == 0 {
		return iterate
	}
	return func(yield func(engine.Count) error) error {
		return iterate(func(c engine.Count) error {
			if rs.skipsCount(c) {
				return nil
			}
			return yield(c)
		})
	}
}

// modelKey names the model rules in force by what they match (not by id),
// for the result-set key: the same rules give the same results.
func (rs ruleSet) modelKey() []string {
	var out []string
	for _, a := range rs.model {
		out = append(out, a.rule.Scope+"\x00"+a.rule.Entity+"\x00"+a.rule.Executable)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// recordExecutables are the executables a record is about: a rare record's
// value, a rate record's executable influencers.
func recordExecutables(r engine.Record) []string {
	if r.ByFieldValue != "" {
		return []string{r.ByFieldValue}
	}
	for _, inf := range r.Influencers {
		if inf.FieldName == engine.FieldExecutable {
			return inf.FieldValues
		}
	}
	return nil
}

// skipsRecord returns the result rule that hides a record, if any. A rule
// covers a record when every host or container and every executable the
// record is about matches it: a rate spike driven by the suppressed binary
// and by another is still shown. A pattern of * covers a record with no
// executable influencer too.
func (rs ruleSet) skipsRecord(r engine.Record, scope engine.Scope) (string, bool) {
	for _, a := range rs.result {
		if !a.scoped(scope) {
			continue
		}
		if !a.anyEntity {
			ents := recordEntities(r)
			if len(ents) == 0 || slices.ContainsFunc(ents, func(e string) bool { return !a.entity.match(e) }) {
				continue
			}
		}
		exes := recordExecutables(r)
		if len(exes) == 0 {
			if a.exe.match("") {
				return a.rule.ID, true
			}
			continue
		}
		if !slices.ContainsFunc(exes, func(e string) bool { return !a.matchesExecutable(e) }) {
			return a.rule.ID, true
		}
	}
	return "", false
}

// Suppressed is a record a skip_result rule hides.
type Suppressed struct {
	Record engine.Record
	Rule   string // the id of the rule that hides it
}

// suppress takes the records the result rules cover out of res, and redoes
// the bucket and influencer results of the buckets they were in from the
// records that stay (as the engine makes them: a bucket's score is its top
// record's, an influencer's the top score of the records it influenced), so
// the overall lane is never hotter than what is shown. res is not changed.
func (rs ruleSet) suppress(res engine.Results, scope engine.Scope) (engine.Results, []Suppressed) {
	if len(rs.result) == 0 {
		return res, nil
	}
	var hidden []Suppressed
	kept := make([]engine.Record, 0, len(res.Records))
	touched := map[int64]bool{}
	for _, r := range res.Records {
		if id, ok := rs.skipsRecord(r, scope); ok {
			hidden = append(hidden, Suppressed{Record: r, Rule: id})
			touched[r.Timestamp] = true
			continue
		}
		kept = append(kept, r)
	}
	if len(hidden) == 0 {
		return res, nil
	}
	out := res
	out.Records = kept
	out.Buckets, out.Influencers = rebuildBuckets(res.Buckets, res.Influencers, kept, touched)
	return out, hidden
}

// rebuildBuckets redoes the bucket and influencer results of the touched
// buckets from records; the others are kept as they are.
func rebuildBuckets(buckets []engine.BucketResult, influencers []engine.InfluencerResult, records []engine.Record, touched map[int64]bool) ([]engine.BucketResult, []engine.InfluencerResult) {
	byBucket := map[int64][]int{}
	for i, r := range records {
		if touched[r.Timestamp] {
			byBucket[r.Timestamp] = append(byBucket[r.Timestamp], i)
		}
	}
	outBuckets := slices.Clone(buckets)
	for i := range outBuckets {
		b := &outBuckets[i]
		if !touched[b.Timestamp] {
			continue
		}
		b.AnomalyScore, b.InitialAnomalyScore, b.RecordCount, b.MaxRecord = 0, 0, 0, -1
		for _, ri := range byBucket[b.Timestamp] {
			r := records[ri]
			if r.RecordScore > b.AnomalyScore {
				b.AnomalyScore, b.MaxRecord = r.RecordScore, ri
			}
			b.InitialAnomalyScore = max(b.InitialAnomalyScore, r.InitialRecordScore)
			b.RecordCount++
		}
	}
	var outInf []engine.InfluencerResult
	for _, in := range influencers {
		if !touched[in.Timestamp] {
			outInf = append(outInf, in)
		}
	}
	ts := make([]int64, 0, len(byBucket))
	for t := range byBucket {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	for _, t := range ts {
		outInf = append(outInf, influencersOf(records, byBucket[t])...)
	}
	slices.SortStableFunc(outInf, func(a, b engine.InfluencerResult) int { return cmp.Compare(a.Timestamp, b.Timestamp) })
	return outBuckets, outInf
}

// influencersOf derives one bucket's influencer results from its records, in
// record order, as the engine does.
func influencersOf(records []engine.Record, idx []int) []engine.InfluencerResult {
	var out []engine.InfluencerResult
	at := map[string]int{}
	for _, ri := range idx {
		r := records[ri]
		for _, inf := range r.Influencers {
			for _, v := range inf.FieldValues {
				key := inf.FieldName + "\x00" + v
				if i, ok := at[key]; ok {
					in := &out[i]
					if r.RecordScore > in.InfluencerScore {
						in.InfluencerScore, in.InitialInfluencerScore = r.RecordScore, r.InitialRecordScore
					}
					in.Probability = min(in.Probability, r.Probability)
					continue
				}
				at[key] = len(out)
				out = append(out, engine.InfluencerResult{ResultType: "influencer", JobID: r.JobID, Timestamp: r.Timestamp,
					BucketSpan: r.BucketSpan, FieldName: inf.FieldName, FieldValue: v, InfluencerScore: r.RecordScore,
					InitialInfluencerScore: r.InitialRecordScore, Probability: r.Probability})
			}
		}
	}
	return out
}

// SaveRule checks a rule and stores it (a new one when it has no id).
func (w *Workspace) SaveRule(ctx context.Context, r cache.Rule) (cache.Rule, error) {
	if err := CheckRule(r); err != nil {
		return r, err
	}
	return w.Store.SaveRule(ctx, r)
}

// The rule file: a small JSON document, so rules can be reviewed, kept in
// version control and shared between caches.
const (
	ruleFileFormat  = "auditlens-rules"
	ruleFileVersion = 1
	// maxRuleFile bounds what an import reads: a rule list is small.
	maxRuleFile = 4 << 20
)

// RuleFile is the exported form of a rule list.
type RuleFile struct {
	Format  string       `json:"format"`
	Version int          `json:"version"`
	Rules   []cache.Rule `json:"rules"`
}

// ExportRules writes every rule, active or not, as a rule file.
func (w *Workspace) ExportRules(ctx context.Context, out io.Writer) error {
	rules, err := w.Store.Rules(ctx)
	if err != nil {
		return err
	}
	return writeRuleFile(out, rules)
}

func writeRuleFile(out io.Writer, rules []cache.Rule) error {
	if rules == nil {
		rules = []cache.Rule{}
	}
	b, err := json.MarshalIndent(RuleFile{Format: ruleFileFormat, Version: ruleFileVersion, Rules: rules}, "", "  ")
	if err != nil {
		return err
	}
	_, err = out.Write(append(b, '\n'))
	return err
}

// ParseRules reads a rule file, checking every rule; unknown fields, a
// foreign document or a newer version are errors, so a typo never silently
// widens or drops a rule.
func ParseRules(r io.Reader) ([]cache.Rule, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxRuleFile+1))
	if err != nil {
		return nil, fmt.Errorf("read the rule file: %w", err)
	}
	if len(data) > maxRuleFile {
		return nil, fmt.Errorf("the rule file is over %d MiB: not a rule file", maxRuleFile>>20)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var f RuleFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("not an auditlens rule file: %w", err)
	}
	if dec.More() {
		return nil, errors.New("not an auditlens rule file: more than one JSON document")
	}
	switch {
	case f.Format != ruleFileFormat:
		return nil, fmt.Errorf("not an auditlens rule file (format %q, want %q)", f.Format, ruleFileFormat)
	case f.Version > ruleFileVersion:
		return nil, fmt.Errorf("the rule file was written by a newer auditlens (version %d, this build reads %d)", f.Version, ruleFileVersion)
	case f.Version < 1:
		return nil, fmt.Errorf("the rule file has no valid version (%d)", f.Version)
	}
	seen := map[string]bool{}
	for i, r := range f.Rules {
		if err := CheckRule(r); err != nil {
			return nil, fmt.Errorf("rule %d of the file: %w", i+1, err)
		}
		if r.ID != "" && seen[r.ID] {
			return nil, fmt.Errorf("rule %d of the file: the id %q is used twice", i+1, r.ID)
		}
		seen[r.ID] = true
	}
	return f.Rules, nil
}

// ImportRules stores rules read by ParseRules: a rule whose id the cache
// has replaces it, the others are added. It returns them as stored.
func (w *Workspace) ImportRules(ctx context.Context, rules []cache.Rule) ([]cache.Rule, error) {
	var out []cache.Rule
	for _, r := range rules {
		stored, err := w.SaveRule(ctx, r)
		if err != nil {
			return out, err
		}
		out = append(out, stored)
	}
	return out, nil
}
