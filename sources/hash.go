package sources

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"sort"
)

// PrefixHashes returns, for each n in sizes, the hex SHA-256 of the first n
// bytes of a file's content (after gunzip), reading the content once. The
// cache uses it to hash a whole file and, in the same pass, to test which
// files it loaded earlier are exact prefixes of this one (the file grew since).
// A size beyond the end of the content (a file that shrank, or a truncated
// gzip stream) gets "", and a negative size is skipped (""). An unreadable
// file, or a cancelled context, is an error. A raw audit-log read computes the
// same hashes as it reads when Options.HashPrefixes asks for them.
func PrefixHashes(ctx context.Context, info FileInfo, sizes []int64) ([]string, error) {
	if len(sizes) == 0 {
		return []string{}, nil
	}
	p := newPrefixHasher(sizes)
	r, c, err := openContent(info)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	r = ctxReader{ctx, r}
	buf := make([]byte, 64<<10)
	for !p.finished() {
		n, err := r.Read(buf)
		p.write(buf[:n])
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return p.sums(), nil // the content ends before the remaining sizes
			}
			return nil, fmt.Errorf("input %q: hash content: %w", info.Path, err)
		}
	}
	return p.sums(), nil
}

// prefixHasher hashes a stream fed to it in order and keeps the digest of
// each wanted prefix, with one running SHA-256 for them all.
type prefixHasher struct {
	sizes []int64
	order []int // indexes of the sizes to hash, shortest first
	next  int   // the next entry of order to reach
	done  int64 // bytes hashed so far
	h     hash.Hash
	out   []string
}

func newPrefixHasher(sizes []int64) *prefixHasher {
	p := &prefixHasher{sizes: sizes, h: sha256.New(), out: make([]string, len(sizes))}
	for i, n := range sizes {
		if n >= 0 {
			p.order = append(p.order, i)
		}
	}
	sort.SliceStable(p.order, func(a, b int) bool { return sizes[p.order[a]] < sizes[p.order[b]] })
	p.write(nil) // prefixes of length 0
	return p
}

// write hashes the next bytes of the content, up to the longest prefix.
func (p *prefixHasher) write(b []byte) {
	for {
		for p.next < len(p.order) && p.sizes[p.order[p.next]] == p.done {
			// Sum appends the digest without resetting the running state.
			p.out[p.order[p.next]] = hex.EncodeToString(p.h.Sum(nil))
			p.next++
		}
		if p.finished() || len(b) == 0 {
			return
		}
		take := min(int64(len(b)), p.sizes[p.order[p.next]]-p.done)
		p.h.Write(b[:take])
		p.done += take
		b = b[take:]
	}
}

// finished reports that every wanted prefix is hashed.
func (p *prefixHasher) finished() bool { return p.next == len(p.order) }

// sums returns the digests, "" for the prefixes the content never reached.
func (p *prefixHasher) sums() []string { return p.out }

// hashingReader feeds what is read through it to a prefixHasher.
type hashingReader struct {
	r io.Reader
	p *prefixHasher
}

func (h hashingReader) Read(b []byte) (int, error) {
	n, err := h.r.Read(b)
	h.p.write(b[:n])
	return n, err
}

// ctxReader stops a long read once its context is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
