package sources

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/zeebo/blake3"
)

func TestPrefixHashes(t *testing.T) {
	content := bytes.Repeat([]byte("type=SYSCALL msg=audit(1.0:1): exe=\"/bin/ls\"\n"), 5000) // over 64 KiB
	dir := t.TempDir()
	plain := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(plain, content, 0o600); err != nil {
		t.Fatal(err)
	}
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(content)
	zw.Close()
	gz := filepath.Join(dir, "audit.log.1.gz")
	if err := os.WriteFile(gz, zipped.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "audit.log.2.gz")
	if err := os.WriteFile(truncated, zipped.Bytes()[:zipped.Len()/2], 0o600); err != nil {
		t.Fatal(err)
	}
	b3 := func(b []byte) string { s := blake3.Sum256(b); return "blake3:" + hex.EncodeToString(s[:]) }
	sha := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	n := int64(len(content))
	sizes := []PrefixHash{{Size: n}, {Size: 10}, {Size: 0}, {Size: 70000}, {Size: n + 1}, {Size: -1}, {Size: 10},
		{Size: 10, Legacy: true}, {Size: 70000, Legacy: true}, {Size: 0, Legacy: true}, {Size: n + 1, Legacy: true}}
	want := []string{b3(content), b3(content[:10]), b3(nil), b3(content[:70000]), "", "", b3(content[:10]),
		sha(content[:10]), sha(content[:70000]), sha(nil), ""}
	for _, c := range []struct {
		name string
		info FileInfo
	}{
		{"plain", FileInfo{Path: plain}},
		{"gzip", FileInfo{Path: gz, Gzip: true}},
	} {
		got, err := PrefixHashes(context.Background(), c.info, sizes)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for i := range sizes {
			if got[i] != want[i] {
				t.Errorf("%s: prefix %+v: hash %q, want %q", c.name, sizes[i], got[i], want[i])
			}
		}
	}
	// A truncated gzip stream hashes what it has and leaves the rest empty.
	got, err := PrefixHashes(context.Background(), FileInfo{Path: truncated, Gzip: true}, []PrefixHash{{Size: 10}, {Size: n}})
	if err != nil || got[0] != b3(content[:10]) || got[1] != "" {
		t.Errorf("truncated gzip: %q %v", got, err)
	}
	if _, err := PrefixHashes(context.Background(), FileInfo{Path: filepath.Join(dir, "gone")}, []PrefixHash{{Size: 1}}); err == nil {
		t.Error("missing file hashed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := PrefixHashes(ctx, FileInfo{Path: plain}, []PrefixHash{{Size: n}}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestAuditLogReadHashesPrefixes checks that a raw audit-log read asked for
// prefix hashes answers as PrefixHashes does, for plain, gzip and truncated
// gzip files of one rotation set, and that a read not asked answers nothing.
func TestAuditLogReadHashesPrefixes(t *testing.T) {
	content := bytes.Repeat([]byte("type=SYSCALL msg=audit(1.0:1): arch=c000003e syscall=59 exe=\"/bin/ls\"\ntype=EOE msg=audit(1.0:1): \n"), 3000)
	dir := t.TempDir()
	var zipped bytes.Buffer
	zw := gzip.NewWriter(&zipped)
	zw.Write(content)
	zw.Close()
	files := map[string][]byte{
		"audit.log.3.gz": zipped.Bytes()[:zipped.Len()/2],
		"audit.log.2.gz": zipped.Bytes(),
		"audit.log.1":    content[:len(content)-7], // ends mid-line
		"audit.log":      content,
	}
	var infos []FileInfo
	for _, name := range []string{"audit.log.3.gz", "audit.log.2.gz", "audit.log.1", "audit.log"} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, files[name], 0o600); err != nil {
			t.Fatal(err)
		}
		infos = append(infos, FileInfo{Path: p, Gzip: filepath.Ext(name) == ".gz"})
	}
	n := int64(len(content))
	h := func(sizes ...int64) []PrefixHash {
		var out []PrefixHash
		for i, n := range sizes {
			out = append(out, PrefixHash{Size: n, Legacy: i%2 == 1})
		}
		return out
	}
	sizes := [][]PrefixHash{h(10, n), h(-1, 4096, n, n+1), h(n-7, 0, 100, n), h(n, 70000, 70000, 1)}
	in := Input{Format: FormatAuditLog, Files: infos, Host: "h"}
	rep, err := Read(context.Background(), in, Options{HashPrefixes: sizes}, func(*Event) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	for i, info := range infos {
		want, err := PrefixHashes(context.Background(), info, sizes[i])
		if err != nil {
			t.Fatal(err)
		}
		got := rep.Files[i].PrefixHashes
		if len(got) != len(want) {
			t.Fatalf("%s: hashes %q, want %q", info.Path, got, want)
		}
		for j := range want {
			if got[j] != want[j] {
				t.Errorf("%s: prefix %+v: hash %q, want %q", info.Path, sizes[i][j], got[j], want[j])
			}
		}
	}
	if rep.Files[3].PrefixHashes[0] == "" || rep.Files[0].PrefixHashes[1] != "" {
		t.Errorf("whole content or truncated stream hashed wrongly: %q %q", rep.Files[3].PrefixHashes, rep.Files[0].PrefixHashes)
	}
	rep, err = Read(context.Background(), in, Options{}, func(*Event) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Files {
		if f.PrefixHashes != nil {
			t.Errorf("%s: hashed without being asked", f.Path)
		}
	}
}
