package elastic

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/auditlens/auditlens/sources"
)

// Mapping says which generation of Auditbeat field names the data uses.
type Mapping string

const (
	MappingECS   Mapping = "ecs"    // Auditbeat 7.x/8.x, Elastic Agent: process.executable, host.name, container.*
	Mapping6x    Mapping = "6x"     // Auditbeat 6.x: process.exe, beat.name, docker.container.*
	MappingMixed Mapping = "ecs+6x" // the pattern spans indices of both
)

// containerPart says what a field of the container chain gives: a name and
// an id name the container; a runtime only says the process ran in one.
type containerPart uint8

const (
	partName containerPart = iota
	partID
	partRuntime
)

// field is one document field as the cluster has it.
type field struct {
	doc  string // the path in the documents, as in the sources field table
	name string // what queries and aggregations use: doc, or its keyword sub-field
	part containerPart
}

// fieldPlan is the field table narrowed to the fields the index pattern
// maps. The chains keep the table's order, in which the first field a
// document holds wins.
type fieldPlan struct {
	time      string
	host      []field
	container []field // names, then ids, then the runtime
	exe       []field
	// Fields the selection tests; "" when the pattern does not map them.
	syscall, action, category, typ, module, messageType string
	mapping                                             Mapping
	warnings                                            []string
}

// fieldCaps is the answer of _field_caps.
type fieldCaps struct {
	Indices []string                       `json:"indices"`
	Fields  map[string]map[string]fieldCap `json:"fields"`
}

type fieldCap struct {
	Type         string `json:"type"`
	Aggregatable bool   `json:"aggregatable"`
}

// readFieldPlan asks the cluster how the pattern maps the table's fields.
func readFieldPlan(ctx context.Context, c *client) (*fieldPlan, error) {
	var names []string
	for _, f := range sources.AllDocumentFields() {
		names = append(names, f, f+".keyword")
	}
	q := url.Values{}
	q.Set("fields", strings.Join(names, ","))
	q.Set("ignore_unavailable", "true")
	res, err := c.do(ctx, request{op: "read the field mapping", method: http.MethodGet, path: "/" + c.index + "/_field_caps",
		query: q, privilege: `index privilege "view_index_metadata"`})
	if err != nil {
		return nil, err
	}
	var caps fieldCaps
	if err := json.Unmarshal(res.body, &caps); err != nil {
		return nil, &Error{Op: "read the field mapping", Host: res.host, Index: c.index, Status: res.status, kind: ErrBadResponse, err: err,
			Reason: "the answer is not a field capabilities document"}
	}
	if len(caps.Indices) == 0 {
		return nil, (&Error{Op: "read the field mapping", Host: res.host, Index: c.index, kind: ErrIndexNotFound,
			Reason: "no index matches the pattern"}).withAdvice(c)
	}
	p, problem := planFields(caps)
	if problem != "" {
		return nil, &Error{Op: "read the field mapping", Host: res.host, Index: c.index, kind: ErrBadResponse, Reason: problem,
			Advice: "Check that --index names indices of Auditbeat or Elastic Agent auditd data"}
	}
	return p, nil
}

// planFields builds the plan from field capabilities; problem says why the
// data cannot be counted.
func planFields(caps fieldCaps) (p *fieldPlan, problem string) {
	p = &fieldPlan{}
	// usable returns the name to query a field by: the field itself when every
	// index can aggregate it, else a keyword sub-field that can.
	usable := func(doc string) (name string, mapped bool) {
		for _, n := range []string{doc, doc + ".keyword"} {
			types, ok := caps.Fields[n]
			if !ok {
				continue
			}
			mapped = true
			agg := len(types) > 0
			for _, t := range types {
				agg = agg && t.Aggregatable
			}
			if agg {
				return n, true
			}
		}
		return "", mapped
	}
	chain := func(m sources.Meaning, part containerPart) []field {
		var out []field
		for _, doc := range sources.DocumentFields(m) {
			name, mapped := usable(doc)
			switch {
			case name != "":
				out = append(out, field{doc: doc, name: name, part: part})
			case mapped:
				p.warnings = append(p.warnings, fmt.Sprintf("field %s is mapped as text without a keyword sub-field, so it cannot be counted: documents that hold only it are left out", doc))
			}
		}
		return out
	}
	single := func(m sources.Meaning) string {
		for _, doc := range sources.DocumentFields(m) {
			if name, _ := usable(doc); name != "" {
				return name
			}
			if _, ok := caps.Fields[doc]; ok {
				return doc // a text field still answers term queries on one lowercase word
			}
		}
		return ""
	}

	for _, doc := range sources.DocumentFields(sources.MeaningTime) {
		types, ok := caps.Fields[doc]
		if !ok {
			continue
		}
		for t := range types {
			if t != "date" && t != "date_nanos" {
				return nil, fmt.Sprintf("%s is mapped as %s, not as a date", doc, clean(t, 40))
			}
		}
		p.time = doc
		break
	}
	if p.time == "" {
		return nil, "the indices have no @timestamp field"
	}
	p.host = chain(sources.MeaningHost, partName)
	p.container = append(append(chain(sources.MeaningContainerName, partName), chain(sources.MeaningContainerID, partID)...),
		chain(sources.MeaningContainerRuntime, partRuntime)...)
	p.exe = chain(sources.MeaningExecutable, partName)
	if len(p.exe) == 0 {
		return nil, fmt.Sprintf("the indices map none of %s as a keyword: they do not look like Auditbeat data",
			strings.Join(sources.DocumentFields(sources.MeaningExecutable), ", "))
	}
	p.syscall = single(sources.MeaningSyscall)
	p.action = single(sources.MeaningAction)
	p.category = single(sources.MeaningCategory)
	p.typ = single(sources.MeaningType)
	p.module = single(sources.MeaningModule)
	p.messageType = single(sources.MeaningMessageType)

	// The executable field tells the generations apart: every counted
	// document has one, and the table lists the ECS name first.
	ecs, v6 := false, false
	first := sources.DocumentFields(sources.MeaningExecutable)[0]
	for _, f := range p.exe {
		if f.doc == first {
			ecs = true
		} else {
			v6 = true
		}
	}
	switch {
	case ecs && v6:
		p.mapping = MappingMixed
	case ecs:
		p.mapping = MappingECS
	default:
		p.mapping = Mapping6x
	}
	return p, ""
}

// Queries are built as nested maps: they are small, and the cluster's DSL
// reads plainly this way.
type obj = map[string]any

func term(f, v string) obj { return obj{"term": obj{f: v}} }

func exists(f string) obj { return obj{"exists": obj{"field": f}} }

// present matches documents holding a non-empty value in f, which is what
// "holds the field" means to the field table.
func present(f string) obj {
	return obj{"bool": obj{"filter": []obj{exists(f)}, "must_not": []obj{term(f, "")}}}
}

func anyOf(qs ...obj) obj {
	if len(qs) == 0 {
		return obj{"match_none": obj{}}
	}
	if len(qs) == 1 {
		return qs[0]
	}
	return obj{"bool": obj{"should": qs, "minimum_should_match": 1}}
}

func allOf(qs ...obj) obj { return obj{"bool": obj{"filter": qs}} }

func not(q obj) obj { return obj{"bool": obj{"must_not": []obj{q}}} }

// timeRange matches [from, to) in epoch milliseconds.
func (p *fieldPlan) timeRange(fromMS, toMS int64) obj {
	return obj{"range": obj{p.time: obj{"gte": fromMS, "lt": toMS, "format": "epoch_millis"}}}
}

// execution matches what sources.Event.IsExecution says is one: an execve
// or execveat syscall, or Auditbeat's action "executed".
func (p *fieldPlan) execution() obj {
	var qs []obj
	if p.action != "" {
		qs = append(qs, term(p.action, "executed"))
	}
	if p.syscall != "" {
		qs = append(qs, obj{"terms": obj{p.syscall: []string{"execve", "execveat"}}})
	}
	return anyOf(qs...)
}

// selection matches what the NDJSON reader yields for sel (see its selects):
// executions are also documents of category process and type start, except
// the system module's and auditd's user-space messages.
func (p *fieldPlan) selection(sel sources.Selection) obj {
	if sel == sources.AllSyscalls {
		if p.syscall == "" {
			return anyOf()
		}
		return present(p.syscall)
	}
	qs := []obj{p.execution()}
	if p.category != "" && p.typ != "" {
		var mustNot []obj
		if p.module != "" {
			mustNot = append(mustNot, term(p.module, "system"))
		}
		if p.messageType != "" {
			mustNot = append(mustNot, allOf(present(p.messageType), not(term(p.messageType, "syscall"))))
		}
		qs = append(qs, obj{"bool": obj{"filter": []obj{term(p.category, "process"), term(p.typ, "start")}, "must_not": mustNot}})
	}
	return anyOf(qs...)
}

// onlyExecutions says whether every document sel matches is an execution,
// so that the pass over the others can be skipped.
func (p *fieldPlan) onlyExecutions(sel sources.Selection) bool {
	return sel == sources.Executions && (p.category == "" || p.typ == "")
}

// hasExecutable matches documents that name their executable.
func (p *fieldPlan) hasExecutable() obj {
	var qs []obj
	for _, f := range p.exe {
		qs = append(qs, present(f.name))
	}
	return anyOf(qs...)
}

// firstHolding matches documents whose first field of chain is chain[i]:
// they hold it and none of the fields before it.
func firstHolding(chain []field, i int) obj {
	var earlier []obj
	for _, f := range chain[:i] {
		earlier = append(earlier, present(f.name))
	}
	q := obj{"filter": []obj{present(chain[i].name)}}
	if len(earlier) > 0 {
		q["must_not"] = earlier
	}
	return obj{"bool": q}
}

// window matches one entity's executions in a drill-down window.
func (p *fieldPlan) window(scope sources.Scope, entity, exe string, fromMS, toMS int64) obj {
	filter := []obj{p.timeRange(fromMS, toMS), p.execution(), p.hasExecutable()}
	var names []obj
	if scope == sources.ScopeContainer {
		for _, f := range p.container {
			if f.part != partRuntime {
				names = append(names, term(f.name, entity))
			}
		}
		filter = append(filter, anyOf(names...))
	} else {
		for _, f := range p.host {
			names = append(names, term(f.name, entity))
		}
		var inContainer []obj
		for _, f := range p.container {
			inContainer = append(inContainer, present(f.name))
		}
		filter = append(filter, anyOf(names...))
		if len(inContainer) > 0 {
			filter = append(filter, not(anyOf(inContainer...)))
		}
	}
	if exe != "" {
		var exes []obj
		for _, f := range p.exe {
			exes = append(exes, term(f.name, exe))
		}
		filter = append(filter, anyOf(exes...))
	}
	return allOf(filter...)
}
