package sources

import (
	"bytes"
	"strings"
)

// fieldTarget names what a document field fills: a part of an Event, a
// fact the selection needs, or where the document came from.
type fieldTarget uint8

const (
	targetTime fieldTarget = iota
	targetHost
	targetContainerID
	targetContainerName
	targetContainerRuntime
	targetExecutable
	targetName
	targetArgs
	targetTitle
	targetUserName
	targetUserID
	targetAuditName
	targetAuditID
	targetPID
	targetPPID
	targetWorkingDir
	targetResult
	targetSyscall
	targetAction
	// The targets below decide the selection and are not copied to the event.
	targetCategory
	targetType
	targetModule
	targetMessageType
	// The targets below come from search-hit and es_archiver wrappers.
	targetIndex
	targetID
	targetCount // number of targets, not a target
)

// fieldKind says which JSON values a target accepts and how they are kept.
type fieldKind uint8

const (
	valueText     fieldKind = iota // a string (a number is kept as its text; a list gives its first string)
	valueInteger                   // a number, or a string of digits (Auditbeat 6.x writes pids as strings)
	valueTime                      // an RFC 3339 string, or epoch milliseconds as a number
	valueList                      // a list of strings (a single string is a list of one)
	valueKeywords                  // a string or a list of strings, tested for one word
	valueOutcome                   // a string normalized to "success" or "fail"; anything else is unknown
)

// fieldKinds gives each target's kind.
var fieldKinds = [targetCount]fieldKind{
	targetTime:     valueTime,
	targetArgs:     valueList,
	targetPID:      valueInteger,
	targetPPID:     valueInteger,
	targetResult:   valueOutcome,
	targetCategory: valueKeywords,
	targetType:     valueKeywords,
	// every other target is valueText (the zero value)
}

// keywordWanted is the word a valueKeywords target is tested for.
var keywordWanted = [targetCount]string{
	targetCategory: "process",
	targetType:     "start",
}

// fieldMapping says that the document field at Path (dot-separated) fills Target.
type fieldMapping struct {
	Path   string
	Target fieldTarget
}

// fieldTable is the one place that says how Auditbeat documents map onto
// events. When several fields fill one target, the first listed that the
// document holds wins, whatever the order of keys in the document; empty
// strings and unknown outcomes count as absent. ECS (Auditbeat 7.x/8.x, Elastic
// Agent) names come before their Auditbeat 6.x equivalents.
var fieldTable = []fieldMapping{
	{"@timestamp", targetTime},

	{"host.name", targetHost},
	{"agent.hostname", targetHost},
	{"beat.name", targetHost},
	{"beat.hostname", targetHost},

	{"container.id", targetContainerID},
	{"docker.container.id", targetContainerID},
	{"container.name", targetContainerName},
	{"docker.container.name", targetContainerName},
	{"container.runtime", targetContainerRuntime},

	{"process.executable", targetExecutable},
	{"process.exe", targetExecutable},
	{"process.name", targetName},
	{"process.args", targetArgs},
	{"process.title", targetTitle},
	{"process.pid", targetPID},
	{"process.parent.pid", targetPPID},
	{"process.ppid", targetPPID}, // Auditbeat 6.x and 7.x
	{"process.working_directory", targetWorkingDir},
	{"process.cwd", targetWorkingDir},

	{"user.name", targetUserName},
	{"user.name_map.uid", targetUserName},
	{"user.id", targetUserID},
	{"user.uid", targetUserID},
	{"user.audit.name", targetAuditName},
	{"user.name_map.auid", targetAuditName},
	{"user.audit.id", targetAuditID},
	{"user.auid", targetAuditID},

	{"event.outcome", targetResult},
	{"auditd.result", targetResult},
	{"auditd.data.syscall", targetSyscall},
	{"event.action", targetAction},

	{"event.category", targetCategory},
	{"event.type", targetType},
	{"event.module", targetModule},
	{"auditd.message_type", targetMessageType},
}

// wrapperTable maps the fields of the two envelopes documents come in when
// exported from Elasticsearch: a search hit ({"_index","_id","_source"}) and a
// Kibana es_archiver record ({"type":"doc","value":{"index","id","source"}}).
// A path ending in a source names the object that holds the document itself.
var wrapperTable = []struct {
	Path   string
	Target fieldTarget
	Source bool
}{
	{Path: "_index", Target: targetIndex},
	{Path: "_id", Target: targetID},
	{Path: "_source", Source: true},
	{Path: "value.index", Target: targetIndex},
	{Path: "value.id", Target: targetID},
	{Path: "value.source", Source: true},
}

// fieldNode is one step of a field path. The walker follows nodes while it
// reads a document, so fields that no node names are skipped without decoding.
type fieldNode struct {
	name     string
	children []*fieldNode
	leaf     bool
	target   fieldTarget
	rank     uint8 // position among the fields that fill the same target: lower wins
	source   bool  // the object holding a wrapped document
	wrapper  bool  // part of an envelope: ignored inside the wrapped document
}

// child finds the node for one key. Keys holding dots ("process.executable",
// as Filebeat and Elasticsearch's flattened output write them) are followed
// segment by segment.
func (n *fieldNode) child(key []byte) *fieldNode {
	for _, c := range n.children {
		if c.name == string(key) {
			return c
		}
	}
	if bytes.IndexByte(key, '.') < 0 {
		return nil
	}
	cur := n
	for len(key) > 0 {
		seg := key
		if i := bytes.IndexByte(key, '.'); i >= 0 {
			seg, key = key[:i], key[i+1:]
		} else {
			key = nil
		}
		var next *fieldNode
		for _, c := range cur.children {
			if c.name == string(seg) {
				next = c
				break
			}
		}
		if next == nil {
			return nil
		}
		cur = next
	}
	return cur
}

// fieldTree is the tree of fieldTable and wrapperTable, built once and never
// changed afterwards.
var fieldTree = buildFieldTree()

func buildFieldTree() *fieldNode {
	root := &fieldNode{}
	walk := func(path string) *fieldNode {
		cur := root
		for _, seg := range splitFieldPath(path) {
			next := cur.child([]byte(seg))
			if next == nil {
				next = &fieldNode{name: seg}
				cur.children = append(cur.children, next)
			}
			cur = next
		}
		return cur
	}
	var ranks [targetCount]uint8
	for _, m := range fieldTable {
		n := walk(m.Path)
		n.leaf, n.target, n.rank = true, m.Target, ranks[m.Target]
		ranks[m.Target]++
	}
	for _, w := range wrapperTable {
		n := walk(w.Path)
		if w.Source {
			n.source = true
		} else {
			n.leaf, n.target, n.rank = true, w.Target, ranks[w.Target]
			ranks[w.Target]++
		}
		top := root.child([]byte(splitFieldPath(w.Path)[0]))
		top.wrapper = true
	}
	return root
}

// splitFieldPath splits a table path at its dots; "@timestamp" is one segment.
func splitFieldPath(path string) []string { return strings.Split(path, ".") }
