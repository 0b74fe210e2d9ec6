// Package corpora finds the shared corpora of real audit data that tests read.
// The corpora live beside the project (../shared/corpora from the repository
// root) and are never copied into it.
package corpora

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir returns the corpora folder, or skips the test with a clear message when
// it is absent (for example on a machine with only the repository).
func Dir(tb testing.TB) string {
	tb.Helper()
	root, err := repoRoot()
	if err != nil {
		tb.Skipf("shared corpora not found: %v", err)
	}
	dir := filepath.Join(root, "..", "shared", "corpora")
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		tb.Skipf("shared corpora not found at %s (expected ../shared/corpora beside the repository); skipping", dir)
	}
	return dir
}

// Path joins elements onto the corpora folder and skips when the file is absent.
func Path(tb testing.TB, elem ...string) string {
	tb.Helper()
	p := filepath.Join(append([]string{Dir(tb)}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		tb.Skipf("corpus file missing: %v", err)
	}
	return p
}

// repoRoot walks up from the working directory to the folder holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
}
