package fleetgen

import (
	"math"
	"math/bits"
	"math/rand/v2"
)

// rng is a small seeded generator. Every stream in the generator has its own,
// derived from the config seed and a key, so that choices in one stream (say,
// the arguments of a command) never shift the choices of another (the times
// and executables that the count stream must reproduce).
type rng struct{ pcg rand.PCG }

func newRNG(a, b uint64) rng { return rng{pcg: *rand.NewPCG(mix(a), mix(b^0x9e3779b97f4a7c15))} }

func (r *rng) u64() uint64 { return r.pcg.Uint64() }

// intn returns a uniform int in [0, n); n <= 0 gives 0.
func (r *rng) intn(n int) int {
	if n <= 1 {
		return 0
	}
	hi, _ := bits.Mul64(r.u64(), uint64(n))
	return int(hi)
}

// between returns a uniform int in [lo, hi].
func (r *rng) between(lo, hi int) int {
	if hi <= lo {
		return lo
	}
	return lo + r.intn(hi-lo+1)
}

func (r *rng) float() float64 { return float64(r.u64()>>11) / (1 << 53) }

func (r *rng) chance(p float64) bool { return r.float() < p }

// exp returns an exponential variate with the given mean.
func (r *rng) exp(mean float64) float64 { return -mean * math.Log(1-r.float()) }

// poisson draws a Poisson count with the given mean.
func (r *rng) poisson(mean float64) int {
	if mean <= 0 {
		return 0
	}
	if mean > 40 {
		// Normal approximation: exactness does not matter here, only determinism.
		v := mean + math.Sqrt(mean)*r.normal()
		if v < 0 {
			return 0
		}
		return int(v + 0.5)
	}
	l := math.Exp(-mean)
	k, p := 0, 1.0
	for {
		p *= r.float()
		if p <= l {
			return k
		}
		k++
	}
}

func (r *rng) normal() float64 {
	u1 := 1 - r.float()
	u2 := r.float()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// pick returns one element of a non-empty slice.
func pick[T any](r *rng, xs []T) T { return xs[r.intn(len(xs))] }

// weighted returns an index drawn in proportion to the weights.
func (r *rng) weighted(w []float64) int {
	total := 0.0
	for _, x := range w {
		total += x
	}
	v := r.float() * total
	for i, x := range w {
		v -= x
		if v < 0 {
			return i
		}
	}
	return len(w) - 1
}

// mix is splitmix64's finalizer: a cheap, well-spread hash of a 64-bit key.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// key folds several values into one stream key.
func key(parts ...uint64) uint64 {
	h := uint64(0x243f6a8885a308d3)
	for _, p := range parts {
		h = mix(h ^ p)
	}
	return h
}

// strKey hashes a string (FNV-1a) for use in stream keys.
func strKey(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
