package sources

import (
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

const (
	discoverRaw  = "type=SYSCALL msg=audit(1700000000.000:1): arch=c000003e syscall=59 success=yes exit=0 pid=10 ppid=1 comm=\"ls\" exe=\"/usr/bin/ls\"\n"
	discoverJSON = `{"@timestamp":"2024-01-01T00:00:00Z","event":{"action":"executed"},"process":{"executable":"/bin/ls"}}` + "\n"
)

func discoverWrite(t *testing.T, path string, content []byte, gz bool) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if gz {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		if _, err := zw.Write(content); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		content = b.Bytes()
	}
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
}

// discoverShape describes inputs as "format host: base names in reading order".
func discoverShape(inputs []Input) []string {
	var out []string
	for _, in := range inputs {
		var names []string
		for _, f := range in.Files {
			names = append(names, filepath.Base(f.Path))
		}
		out = append(out, string(in.Format)+" "+in.Host+": "+strings.Join(names, " "))
	}
	return out
}

func TestDiscover(t *testing.T) {
	root := t.TempDir()
	host1 := filepath.Join(root, "web-01")
	host2 := filepath.Join(root, "db-01")
	for _, n := range []string{"audit.log", "audit.log.1", "audit.log.9", "audit.log.10"} {
		discoverWrite(t, filepath.Join(host1, n), []byte(discoverRaw), false)
	}
	discoverWrite(t, filepath.Join(host1, "audit.log.2.gz"), []byte(discoverRaw), true)
	discoverWrite(t, filepath.Join(host1, "auditbeat.ndjson"), []byte(discoverJSON), false)
	discoverWrite(t, filepath.Join(host1, "auditbeat.1.ndjson.gz"), []byte(discoverJSON), true)
	discoverWrite(t, filepath.Join(host1, ".hidden.ndjson"), []byte(discoverJSON), false)
	discoverWrite(t, filepath.Join(host1, "empty.log"), nil, false)
	discoverWrite(t, filepath.Join(host1, "nested", "audit.log"), []byte(discoverRaw), false)
	discoverWrite(t, filepath.Join(host2, "audit.log"), []byte("node=db-01 "+discoverRaw), false)
	discoverWrite(t, filepath.Join(host2, "audit.log.1"), []byte(discoverRaw), false)
	if err := os.Symlink(filepath.Join(host1, "auditbeat.ndjson"), filepath.Join(host2, "linked.ndjson")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "nowhere"), filepath.Join(host2, "dangling.ndjson")); err != nil {
		t.Fatal(err)
	}
	notLogs := filepath.Join(root, "notes")
	discoverWrite(t, filepath.Join(notLogs, "readme.txt"), []byte("hello\n"), false)
	discoverWrite(t, filepath.Join(root, "only-folders", "sub", "audit.log"), []byte(discoverRaw), false)
	discoverWrite(t, filepath.Join(root, "empty-folder", ".keep"), nil, false)

	cases := []struct {
		name  string
		paths []string
		opts  Options
		want  []string
		err   string
	}{
		{
			name:  "folder: rotation set oldest first, NDJSON files one by one, hidden, empty and nested left out",
			paths: []string{host1},
			want: []string{
				"auditlog web-01: audit.log.10 audit.log.9 audit.log.2.gz audit.log.1 audit.log",
				"ndjson : auditbeat.1.ndjson.gz",
				"ndjson : auditbeat.ndjson",
			},
		},
		{
			name:  "two folders with the same log name are two hosts; a linked file counts",
			paths: []string{host1 + "/audit.log*", host2},
			want: []string{
				"auditlog web-01: audit.log.10 audit.log.9 audit.log.2.gz audit.log.1 audit.log",
				"auditlog db-01: audit.log.1 audit.log",
				"ndjson : linked.ndjson",
			},
		},
		{
			name:  "host option names raw logs",
			paths: []string{filepath.Join(host2, "audit.log")},
			opts:  Options{Host: "given"},
			want:  []string{"auditlog given: audit.log"},
		},
		{
			name:  "a file named twice, by different spellings, is read once",
			paths: []string{filepath.Join(host1, "auditbeat.ndjson"), host1 + "/./auditbeat.ndjson", filepath.Join(host1, "..", "web-01", "auditbeat.ndjson")},
			want:  []string{"ndjson : auditbeat.ndjson"},
		},
		{name: "missing path", paths: []string{filepath.Join(root, "gone")}, err: "no such file or folder"},
		{name: "glob matching nothing", paths: []string{filepath.Join(root, "*.nothing")}, err: "pattern matches no files"},
		{name: "glob matching only folders", paths: []string{filepath.Join(root, "only-*")}, err: "pattern matches no files"},
		{name: "bad glob", paths: []string{filepath.Join(root, "[")}, err: "bad pattern"},
		{name: "folder without files", paths: []string{filepath.Join(root, "empty-folder")}, err: "holds no files"},
		{name: "neither format", paths: []string{notLogs}, err: "neither Auditbeat NDJSON"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			inputs, err := Discover(tc.paths, tc.opts)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want one saying %q", err, tc.err)
				}
				if !strings.Contains(err.Error(), filepath.Base(tc.paths[0])) {
					t.Errorf("error %q does not name the path", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := discoverShape(inputs); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("inputs\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestSniff(t *testing.T) {
	cases := []struct {
		name    string
		content string
		want    Format
		err     bool
	}{
		{"NDJSON", discoverJSON, FormatNDJSON, false},
		{"pretty JSON", "{\n  \"a\": 1\n}\n", FormatNDJSON, false},
		{"blank lines first", "\n\n   \n" + discoverJSON, FormatNDJSON, false},
		{"byte order mark", "\xEF\xBB\xBF" + discoverJSON, FormatNDJSON, false},
		{"NUL padding", "\x00\x00\x00" + discoverJSON, FormatNDJSON, false},
		{"NUL-only line first", "\x00\x00\n" + discoverRaw, FormatAuditLog, false},
		{"raw record", discoverRaw, FormatAuditLog, false},
		{"node prefix", "node=box1 " + discoverRaw, FormatAuditLog, false},
		{"no newline", strings.TrimSpace(discoverJSON), FormatNDJSON, false},
		{"only blanks", " \n\t\n", "", false},
		{"empty", "", "", false},
		{"text", "hello world\n" + discoverJSON, "", true},
		{"JSON array", "[" + discoverJSON + "]", "", true},
	}
	for _, tc := range cases {
		got, err := sniff([]byte(tc.content))
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("%s: got %q, %v; want %q, error %v", tc.name, got, err, tc.want, tc.err)
		}
	}
}

func TestFingerprintsFollowContent(t *testing.T) {
	dir := t.TempDir()
	var content bytes.Buffer
	for content.Len() < 3*fingerprintBytes {
		content.WriteString(discoverJSON)
	}
	plain := filepath.Join(dir, "a.ndjson")
	packed := filepath.Join(dir, "a.ndjson.1.gz")
	grown := filepath.Join(dir, "grown.ndjson")
	other := filepath.Join(dir, "other.ndjson")
	cut := filepath.Join(dir, "cut.ndjson.gz")
	discoverWrite(t, plain, content.Bytes(), false)
	discoverWrite(t, packed, content.Bytes(), true)
	discoverWrite(t, grown, append(bytes.Clone(content.Bytes()), discoverJSON...), false)
	discoverWrite(t, other, append([]byte(" "), content.Bytes()...), false)
	gz, err := os.ReadFile(packed)
	if err != nil {
		t.Fatal(err)
	}
	discoverWrite(t, cut, gz[:len(gz)/2], false)

	inputs, err := Discover([]string{plain, packed, grown, other, cut}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	info := map[string]FileInfo{}
	for _, in := range inputs {
		info[filepath.Base(in.Files[0].Path)] = in.Files[0]
	}
	a, z, g, o, c := info["a.ndjson"], info["a.ndjson.1.gz"], info["grown.ndjson"], info["other.ndjson"], info["cut.ndjson.gz"]
	if a.Gzip || !z.Gzip || !c.Gzip {
		t.Errorf("gzip flags: %v %v %v", a.Gzip, z.Gzip, c.Gzip)
	}
	if a.Fingerprint != z.Fingerprint || a.ContentSize != z.ContentSize || a.ContentSize != int64(content.Len()) || z.Size >= a.Size {
		t.Errorf("plain %+v and gzip %+v of one content differ", a, z)
	}
	if g.Fingerprint != a.Fingerprint || g.ContentSize == a.ContentSize {
		t.Errorf("a file that grew past 64 KiB keeps its fingerprint and changes size: %+v", g)
	}
	if o.Fingerprint == a.Fingerprint || len(o.Fingerprint) != 64 {
		t.Errorf("different content, same fingerprint: %s", o.Fingerprint)
	}
	if c.Fingerprint != a.Fingerprint {
		t.Errorf("a truncated gzip holding the first 64 KiB fingerprints like the whole: %s", c.Fingerprint)
	}

	// Prefix hashes see through gzip, and tell when a file is too short.
	n := int64(content.Len())
	prefix := func(info FileInfo, n int64) string {
		t.Helper()
		h, err := PrefixHashes(context.Background(), info, []PrefixHash{{Size: n}})
		if err != nil {
			t.Fatal(err)
		}
		return h[0]
	}
	hp, hz, hg := prefix(a, n), prefix(z, n), prefix(g, n)
	if hp != hz || hp != hg || hp == "" {
		t.Errorf("prefix hashes differ: %s %s %s", hp, hz, hg)
	}
	if ho := prefix(o, n); ho == hp {
		t.Error("different content, same prefix hash")
	}
	if h := prefix(a, n+1); h != "" {
		t.Errorf("hashing past the end of a file gave %q", h)
	}
}

func TestRotationOrder(t *testing.T) {
	paths := []string{"d/audit.log", "d/audit.log.3.gz", "d/audit.log.1", "d/audit.log.12", "d/audit.log.2"}
	var files []FileInfo
	for _, p := range paths {
		files = append(files, FileInfo{Path: p})
	}
	sortRotation(files)
	var got []string
	for _, f := range files {
		got = append(got, f.Path)
	}
	want := []string{"d/audit.log.12", "d/audit.log.3.gz", "d/audit.log.2", "d/audit.log.1", "d/audit.log"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("order %q, want %q", got, want)
	}
	for _, tc := range []struct {
		path string
		base string
		n    int
	}{
		{"audit.log", "audit.log", 0},
		{"audit.log.7", "audit.log", 7},
		{"logs.2/audit.log.7.gz", "logs.2/audit.log", 7},
		{"audit.log.gz", "audit.log", 0},
	} {
		if base, n := rotationBase(tc.path); base != tc.base || n != tc.n {
			t.Errorf("rotationBase(%q) = %q, %d", tc.path, base, n)
		}
	}
}
