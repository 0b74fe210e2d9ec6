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

	"github.com/zeebo/blake3"
)

// PrefixHash asks for the digest of the first Size bytes of a file's
// content (after gunzip): BLAKE3, written "blake3:" and hex, or with Legacy
// the hex SHA-256 that caches of schema 5 and before stored, so that a file
// loaded by them is still recognised once it grew. A negative size is
// skipped ("").
type PrefixHash struct {
	Size   int64
	Legacy bool
}

// blake3Tag starts a BLAKE3 digest, telling it from a legacy SHA-256 one.
const blake3Tag = "blake3:"

// PrefixHashes returns the digest of each wanted prefix of a file's content,
// reading the content once. The cache uses it to hash a whole file and, in the
// same pass, to test which files it loaded earlier are exact prefixes of this
// one (the file grew since). A prefix beyond the end of the content (a file
// that shrank, or a truncated gzip stream) gets "". An unreadable file, or a
// cancelled context, is an error. A raw audit-log read computes the same
// hashes as it reads when Options.HashPrefixes asks for them.
func PrefixHashes(ctx context.Context, info FileInfo, wants []PrefixHash) ([]string, error) {
	if len(wants) == 0 {
		return []string{}, nil
	}
	p := newPrefixHasher(wants)
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
// each wanted prefix, with one running hash of each kind for them all. BLAKE3
// rather than SHA-256 because hashing every byte of a log was a tenth of an
// ingest's CPU: BLAKE3 takes half as long with the same strength. SHA-256
// runs only when a legacy digest is wanted, and only as far as it is.
type prefixHasher struct {
	wants []PrefixHash
	order []int // indexes of the wants to answer, shortest first
	next  int   // the next entry of order to reach
	done  int64 // bytes hashed so far
	b3    *blake3.Hasher
	sha   hash.Hash
	shaTo int64 // bytes the SHA-256 takes: the longest legacy prefix
	out   []string
}

func newPrefixHasher(wants []PrefixHash) *prefixHasher {
	p := &prefixHasher{wants: wants, b3: blake3.New(), out: make([]string, len(wants))}
	for i, w := range wants {
		if w.Size < 0 {
			continue
		}
		p.order = append(p.order, i)
		if w.Legacy {
			p.sha = sha256.New()
			p.shaTo = max(p.shaTo, w.Size)
		}
	}
	sort.SliceStable(p.order, func(a, b int) bool { return wants[p.order[a]].Size < wants[p.order[b]].Size })
	p.write(nil) // prefixes of length 0
	return p
}

// write hashes the next bytes of the content, up to the longest prefix.
func (p *prefixHasher) write(b []byte) {
	for {
		for p.next < len(p.order) && p.wants[p.order[p.next]].Size == p.done {
			// Sum appends the digest without resetting the running state.
			i := p.order[p.next]
			if p.wants[i].Legacy {
				p.out[i] = hex.EncodeToString(p.sha.Sum(nil))
			} else {
				p.out[i] = blake3Tag + hex.EncodeToString(p.b3.Sum(nil))
			}
			p.next++
		}
		if p.finished() || len(b) == 0 {
			return
		}
		take := min(int64(len(b)), p.wants[p.order[p.next]].Size-p.done)
		p.b3.Write(b[:take])
		if p.done < p.shaTo {
			p.sha.Write(b[:min(take, p.shaTo-p.done)])
		}
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
