package sources

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
)

// PrefixHashes returns, for each n in sizes, the hex SHA-256 of the first n
// bytes of a file's content (after gunzip), reading the content once. The
// cache uses it to hash a whole file and, in the same pass, to test which
// files it loaded earlier are exact prefixes of this one (the file grew since).
// A size beyond the end of the content (a file that shrank, or a truncated
// gzip stream) gets "". An unreadable file, or a cancelled context, is an
// error.
func PrefixHashes(ctx context.Context, info FileInfo, sizes []int64) ([]string, error) {
	out := make([]string, len(sizes))
	if len(sizes) == 0 {
		return out, nil
	}
	order := make([]int, len(sizes))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return sizes[order[a]] < sizes[order[b]] })

	r, c, err := openContent(info)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	r = ctxReader{ctx, r}
	h := sha256.New()
	var done int64
	for _, i := range order {
		n := sizes[i]
		if n < 0 {
			continue
		}
		if n > done {
			copied, err := io.CopyN(h, r, n-done)
			done += copied
			if err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
					return out, nil // the content ends before the remaining sizes
				}
				return nil, fmt.Errorf("input %q: hash content: %w", info.Path, err)
			}
		}
		// Sum appends the digest without resetting the running state.
		out[i] = hex.EncodeToString(h.Sum(nil))
	}
	return out, nil
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
