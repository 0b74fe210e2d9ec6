package sources

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/auditlens/auditlens/internal/corpora"
)

// ndFuzzTricky are hand-made inputs aimed at the scanner's edges.
var ndFuzzTricky = []string{
	"",
	"\n\n\n",
	"{",
	"{\n",
	"{\n}\n",
	"{\n  \"@timestamp\": \"2024-01-01T00:00:00Z\",\n  \"event\": {\"action\": \"executed\"},\n  \"process\": {\"executable\": \"/p\"}\n}",
	"{\n  \"a\": \"open\n}\n{\"b\":1}\n",
	`{"@timestamp":"2024-01-01T00:00:00Z","event":{"action":"executed"},"process":{"executable":"/x"}}`,
	`{"@timestamp":"2024-01-01T00:00:00Z","event":{"action":"executed"},"process":{"executable":"/x"}}{}`,
	`{"@timestamp":1704067200000,"auditd":{"data":{"syscall":"execve"}},"process":{"exe":"/y","pid":"12","ppid":"x"}}`,
	`{"_source":{"@timestamp":"2024-01-01T00:00:00Z","event":{"action":"executed"},"process":{"executable":"/z"}},"_id":"1","_index":"i"}`,
	`{"type":"doc","value":{"source":{"@timestamp":"2024-01-01T00:00:00Z","event":{"category":"process","type":["start"]},"process":{"executable":"/w"}}}}`,
	`{"@timestamp":"2024-01-01T00:00:00Z","event":{"action":"executed"},"process":{"executable":"\ud83d\ude00\ud800\udc00\udfff\u0000\\\"\/"}}`,
	"{\"@timestamp\":\"2024-01-01T00:00:00Z\",\"event\":{\"action\":\"executed\"},\"process\":{\"executable\":\"\xff\xfe\xc3\x28\x00\"}}",
	"\x00\x00\x00{\"@timestamp\":\"2024-01-01T00:00:00Z\",\"event\":{\"action\":\"executed\"},\"process\":{\"executable\":\"/n\"}}",
	"\xEF\xBB\xBF{\"@timestamp\":\"2024-01-01T00:00:00Z\",\"event\":{\"action\":\"executed\"},\"process\":{\"executable\":\"/bom\"}}",
	`{"process.executable":"/dots","@timestamp":"2024-01-01T00:00:00Z","event.action":"executed","process":{"parent.pid":1}}`,
	`{"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]],"b":-0.5e+10,"c":true,"d":null,"e":false}`,
	`{"a":"\u12`,
	`{"a":1.}`,
	`{"@timestamp":"2024-02-30T00:00:00Z","event":{"action":"executed"},"process":{"executable":"/bad-date"}}`,
	"{\"x\":1}\r\n{\"y\":2}\r\n",
	"not json\n[1,2,3]\n\"str\"\n",
}

// FuzzNDJSON feeds arbitrary bytes to the decoder: it must never panic, every
// event it yields must carry a time, an executable and clean strings, and the
// report's counts must add up.
func FuzzNDJSON(f *testing.F) {
	for _, s := range ndFuzzTricky {
		f.Add([]byte(s))
	}
	fixtures, _ := filepath.Glob(filepath.Join("testdata", "ndjson", "*"))
	for _, path := range fixtures {
		if b, err := os.ReadFile(path); err == nil {
			f.Add(b)
		}
	}
	ndFuzzCorpusSeeds(f)

	f.Fuzz(func(t *testing.T, data []byte) {
		for _, sel := range []Selection{Executions, AllSyscalls} {
			ndFuzzCheck(t, data, sel)
		}
		ndFuzzAgreesWithEncodingJSON(t, data)
	})
}

// ndNoSkip turns corpora's skip into a note, so a machine without the corpora
// still fuzzes, from the other seeds.
type ndNoSkip struct {
	testing.TB
	missing bool
}

func (n *ndNoSkip) Skipf(string, ...any) { n.missing = true }
func (n *ndNoSkip) Helper()              {}

// ndFuzzCorpusSeeds adds real documents, one per seed, when the corpora are there.
func ndFuzzCorpusSeeds(f *testing.F) {
	probe := &ndNoSkip{TB: f}
	dir := corpora.Dir(probe)
	if probe.missing {
		f.Log("shared corpora not found: fuzzing from the fixtures only")
		return
	}
	var files []string
	for _, pattern := range []string{
		filepath.Join(dir, "kibana-es-archives", "*.ndjson"),
		filepath.Join(dir, "kibana-es-archives", "raw", "*.json"),
		filepath.Join(dir, "beats-7.17.29", "auditbeat", "module", "auditd", "_meta", "*.json"),
	} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	for _, path := range files {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		if !strings.HasSuffix(path, ".ndjson") {
			f.Add(b) // pretty-printed: the whole file is one seed
			continue
		}
		sc := bufio.NewScanner(bytes.NewReader(b))
		sc.Buffer(nil, maxDocumentBytes)
		for sc.Scan() {
			f.Add(bytes.Clone(sc.Bytes()))
		}
	}
	// Auditbeat's expected documents, compacted to lines.
	matches, _ := filepath.Glob(filepath.Join(dir, "beats-7.17.29", "auditbeat", "module", "auditd", "testdata", "*-expected.json"))
	for _, path := range matches {
		b, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		var docs []json.RawMessage
		if json.Unmarshal(b, &docs) != nil {
			continue
		}
		for _, d := range docs {
			var line bytes.Buffer
			if json.Compact(&line, d) == nil {
				f.Add(line.Bytes())
			}
		}
	}
}

func ndFuzzCheck(t *testing.T, data []byte, sel Selection) {
	const samples = 3
	var rep FileReport
	var yielded int64
	err := decodeNDJSON(context.Background(), bytes.NewReader(data), "fuzz", Options{Selection: sel, MaxSamples: samples}, func(e *Event) error {
		yielded++
		if e.Time.IsZero() {
			t.Errorf("event without a time: %+v", e)
		}
		if e.Executable == "" {
			t.Errorf("event without an executable: %+v", e)
		}
		if e.Origin.Line < 1 || e.Origin.File != "fuzz" {
			t.Errorf("event origin %+v", e.Origin)
		}
		for _, s := range append([]string{e.Host, e.Container.ID, e.Container.Name, e.Container.Runtime, e.Executable, e.Name, e.Title,
			e.User.Name, e.User.ID, e.User.AuditName, e.User.AuditID, e.WorkingDir, e.Result, e.Syscall, e.Action,
			e.Origin.Index, e.Origin.ID}, e.Args...) {
			if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
				t.Errorf("unrepaired string %q", s)
			}
		}
		return nil
	}, &rep)
	if err != nil {
		t.Fatalf("selection %d: error %v", sel, err)
	}
	maxLines := int64(bytes.Count(data, []byte("\n")) + 1)
	switch {
	case rep.Events != yielded:
		t.Errorf("report says %d events, %d yielded", rep.Events, yielded)
	case rep.Seen < rep.Events:
		t.Errorf("seen %d < events %d", rep.Seen, rep.Events)
	case rep.Lines < rep.Seen+rep.Rejected:
		t.Errorf("lines %d < seen %d + rejected %d", rep.Lines, rep.Seen, rep.Rejected)
	case rep.Lines > maxLines:
		t.Errorf("lines %d, input has at most %d", rep.Lines, maxLines)
	case rep.Repaired > rep.Seen:
		t.Errorf("repaired %d > seen %d", rep.Repaired, rep.Seen)
	case int64(len(rep.Samples)) != min(rep.Rejected, samples):
		t.Errorf("%d samples for %d rejects", len(rep.Samples), rep.Rejected)
	}
	last := int64(0)
	for _, s := range rep.Samples {
		if s.Line < 1 || s.Line > rep.Lines || s.Line < last {
			t.Errorf("sample line %d out of order or range (lines %d)", s.Line, rep.Lines)
		}
		last = s.Line
		// Reasons are our own words: printable ASCII only, so no input byte leaks through.
		for _, r := range s.Reason {
			if r > unicode.MaxASCII || !unicode.IsPrint(r) {
				t.Errorf("reason %q holds a byte that is not ours", s.Reason)
				break
			}
		}
	}
}

// ndFuzzAgreesWithEncodingJSON: one line that encoding/json accepts as an
// object is read as one document, never rejected as malformed.
func ndFuzzAgreesWithEncodingJSON(t *testing.T, data []byte) {
	line := bytes.TrimRight(data, " \t\r\n")
	if len(line) == 0 || len(line) > maxDocumentBytes || bytes.IndexByte(line, '\n') >= 0 || !json.Valid(line) {
		return
	}
	if first := bytes.TrimLeft(line, " \t\r"); first[0] != '{' || bytes.Count(line, []byte("{"))+bytes.Count(line, []byte("[")) >= maxJSONNesting {
		return
	}
	events, rep := ndDecodeEverything(t, data)
	if len(events) != 1 || rep.Rejected != 0 || rep.Seen != 1 {
		t.Errorf("valid JSON object read as %d events, report %+v", len(events), rep)
	}
}
