package engine

import "math"

// Count distributions for the rate model: the negative binomial (a Poisson
// whose rate varies, i.e. over-dispersed counts) and its Poisson limit,
// described by mean and variance. Tails are computed in logs so that a burst
// 50 standard deviations out still gets a finite, ordered probability.

const (
	tinyFloat   = 1e-300
	cfEpsilon   = 1e-13
	cfMaxIter   = 2000
	logSmallest = -minusLogSmallest
)

// logUpperTail returns ln P(X >= y) for a count X with the given mean and
// variance. Variances at or below the mean give a Poisson; y may be
// fractional (the continuous extension), which the multi-bucket sums use.
func logUpperTail(y, mean, variance float64) float64 {
	if !(y > 0) {
		return 0
	}
	if !(mean > 0) {
		return logSmallest
	}
	if variance <= mean*(1+1e-9) {
		// P(X >= y) for a Poisson is the regularized lower incomplete gamma P(y, mean).
		return logGammaP(y, mean)
	}
	// Negative binomial with r successes and success probability q:
	// P(X >= y) = I_{1-q}(y, r).
	q := mean / variance
	r := mean * mean / (variance - mean)
	return logBetaI(1-q, y, r)
}

// upperTailProbability is ml-cpp's one-sided probability of a count at least
// this high: twice the upper tail, so the median maps to 1, capped at 1.
func upperTailProbability(y, mean, variance float64) float64 {
	if y <= mean {
		return 1
	}
	l := logUpperTail(y, mean, variance) + math.Ln2
	if l >= 0 {
		return 1
	}
	if l < logSmallest {
		return SmallestProbability
	}
	return math.Max(math.Exp(l), SmallestProbability)
}

// approxUpperTailProbability is a cheap stand-in for upperTailProbability
// (Wilson-Hilferty on the moment-matched gamma) used to skip the exact
// computation for buckets that are clearly not anomalous.
func approxUpperTailProbability(y, mean, variance float64) float64 {
	if y <= mean {
		return 1
	}
	z := wilsonHilfertyZ(y, mean, variance)
	return math.Min(1, math.Erfc(z/math.Sqrt2))
}

func wilsonHilfertyZ(y, mean, variance float64) float64 {
	k := mean * mean / variance // gamma shape
	theta := variance / mean    // gamma scale
	c := 1 / (9 * k)
	return (math.Cbrt(y/(k*theta)) - (1 - c)) / math.Sqrt(c)
}

// countQuantile approximates the quantile at standard normal deviate z of a
// count with this mean and variance (Wilson-Hilferty on the moment-matched
// gamma), for the chart's band.
func countQuantile(mean, variance, z float64) float64 {
	if !(mean > 0) || !(variance > 0) {
		return 0
	}
	k := mean * mean / variance
	theta := variance / mean
	c := 1 / (9 * k)
	b := 1 - c + z*math.Sqrt(c)
	if b <= 0 {
		return 0
	}
	return k * theta * b * b * b
}

// logGammaP returns ln P(a, x), the regularized lower incomplete gamma.
func logGammaP(a, x float64) float64 {
	if x <= 0 {
		return logSmallest
	}
	lg, _ := math.Lgamma(a)
	front := -x + a*math.Log(x) - lg
	if x < a+1 {
		// Series: P = e^-x x^a / Gamma(a+1) * sum.
		ap, del := a, 1/a
		sum := del
		for i := 0; i < cfMaxIter; i++ {
			ap++
			del *= x / ap
			sum += del
			if math.Abs(del) < math.Abs(sum)*cfEpsilon {
				break
			}
		}
		return clampLog(front + math.Log(sum))
	}
	// Continued fraction for Q = 1 - P (Lentz).
	b := x + 1 - a
	c := 1 / tinyFloat
	d := 1 / b
	h := d
	for i := 1; i <= cfMaxIter; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < tinyFloat {
			d = tinyFloat
		}
		c = b + an/c
		if math.Abs(c) < tinyFloat {
			c = tinyFloat
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < cfEpsilon {
			break
		}
	}
	logQ := front + math.Log(h)
	return clampLog(log1mExp(logQ))
}

// logBetaI returns ln I_x(a, b), the regularized incomplete beta.
func logBetaI(x, a, b float64) float64 {
	if x <= 0 {
		return logSmallest
	}
	if x >= 1 {
		return 0
	}
	if x < (a+1)/(a+b+2) {
		return clampLog(logBetaFront(x, a, b) + math.Log(betaCF(x, a, b)) - math.Log(a))
	}
	// I_x(a, b) = 1 - I_{1-x}(b, a).
	other := logBetaFront(1-x, b, a) + math.Log(betaCF(1-x, b, a)) - math.Log(b)
	return clampLog(log1mExp(other))
}

func logBetaFront(x, a, b float64) float64 {
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	return a*math.Log(x) + b*math.Log1p(-x) - (la + lb - lab)
}

// betaCF is the continued fraction of the incomplete beta (modified Lentz).
func betaCF(x, a, b float64) float64 {
	qab, qap, qam := a+b, a+1, a-1
	c := 1.0
	d := 1 - qab*x/qap
	if math.Abs(d) < tinyFloat {
		d = tinyFloat
	}
	d = 1 / d
	h := d
	for m := 1; m <= cfMaxIter; m++ {
		fm := float64(m)
		m2 := 2 * fm
		aa := fm * (b - fm) * x / ((qam + m2) * (a + m2))
		d = 1 + aa*d
		if math.Abs(d) < tinyFloat {
			d = tinyFloat
		}
		c = 1 + aa/c
		if math.Abs(c) < tinyFloat {
			c = tinyFloat
		}
		d = 1 / d
		h *= d * c
		aa = -(a + fm) * (qab + fm) * x / ((a + m2) * (qap + m2))
		d = 1 + aa*d
		if math.Abs(d) < tinyFloat {
			d = tinyFloat
		}
		c = 1 + aa/c
		if math.Abs(c) < tinyFloat {
			c = tinyFloat
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < cfEpsilon {
			break
		}
	}
	return h
}

// log1mExp returns ln(1 - e^l) for l <= 0 without cancellation.
func log1mExp(l float64) float64 {
	if l >= 0 {
		return logSmallest
	}
	if l > -math.Ln2 {
		return math.Log(-math.Expm1(l))
	}
	return math.Log1p(-math.Exp(l))
}

func clampLog(l float64) float64 {
	if l != l || l < logSmallest {
		return logSmallest
	}
	if l > 0 {
		return 0
	}
	return l
}

// normalUpperLog returns ln P(Z >= z) for a standard normal Z.
func normalUpperLog(z float64) float64 {
	if z < 5 {
		return math.Log(0.5 * math.Erfc(z/math.Sqrt2))
	}
	z2 := z * z
	return -z2/2 - math.Log(z*math.Sqrt(2*math.Pi)) + math.Log1p(-1/z2+3/(z2*z2))
}
