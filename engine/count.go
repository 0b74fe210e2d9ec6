// Package engine is the detection engine: pure computation over per-bucket
// execution counts. It does no I/O, no SQL and no terminal work, and it is
// deterministic: the same counts give the same scores, bit for bit.
package engine

// Scope says whether counts belong to hosts or to Docker containers.
type Scope string

const (
	ScopeHost      Scope = "host"
	ScopeContainer Scope = "container"
)

// Count is how many times one executable ran for one entity (host or
// container) in one bucket. Bucket is the bucket's start in Unix seconds.
// The cache stores counts at a fine grain (one minute) and sums them into the
// bucket span a job asks for.
type Count struct {
	Scope      Scope
	Entity     string // host name, or container name (else id)
	Bucket     int64  // bucket start, Unix seconds
	Executable string
	Count      int64
}
