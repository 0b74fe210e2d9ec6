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
	hash := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	n := int64(len(content))
	sizes := []int64{n, 10, 0, 70000, n + 1, -1, 10}
	want := []string{hash(content), hash(content[:10]), hash(nil), hash(content[:70000]), "", "", hash(content[:10])}
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
				t.Errorf("%s: size %d: hash %q, want %q", c.name, sizes[i], got[i], want[i])
			}
		}
	}
	// A truncated gzip stream hashes what it has and leaves the rest empty.
	got, err := PrefixHashes(context.Background(), FileInfo{Path: truncated, Gzip: true}, []int64{10, n})
	if err != nil || got[0] != hash(content[:10]) || got[1] != "" {
		t.Errorf("truncated gzip: %q %v", got, err)
	}
	if _, err := PrefixHashes(context.Background(), FileInfo{Path: filepath.Join(dir, "gone")}, []int64{1}); err == nil {
		t.Error("missing file hashed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := PrefixHashes(ctx, FileInfo{Path: plain}, []int64{n}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
