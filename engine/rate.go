package engine

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// The rate model, one time series per partition: executions per bucket.
//
// Expected count mu = level x profile(time of day; weekday or weekend) x
// weight(day of week), each a ratio of decayed sums learned online and
// causally (a bucket is scored on what came before it):
//   - level: ratio of exponentially weighted sums over about a day, plus a
//     damped trend from day-to-day level changes (after three days);
//   - profile: per 15-minute slot (or the bucket span if longer), about three
//     weeks of memory, pooled with neighbouring slots while a slot has few
//     observations, shrunk to flat (weekdays, a prior worth one observation)
//     or to the weekday shape (weekends, worth four), the prior fading as the
//     slot's observations grow;
//   - weight: per day of week, about four weeks of memory, one day of prior,
//     learned once the rest of the model has seen three days.
// A day's observations join the profile and the weight only when the day
// ends, so an anomaly cannot reshape the very day it happens on.
//
// Noise: a negative binomial with variance mu + phi mu^2, phi estimated from
// the residuals of the predictions (so it also absorbs model error), shrunk to
// a prior while there is little data and never below phiMin. Only high counts
// score (one-sided, twice the upper tail as ml-cpp). high_non_zero_count
// skips empty buckets and models count - 1.
//
// Bursts: a host that runs a build or a package update now and then has
// buckets far above its usual noise, and a negative binomial alone calls each
// of them extraordinary. So the single-bucket tail is a mixture: with
// probability pi (the partition's decayed rate of buckets above mu + 3 sd)
// the bucket is a burst whose size, in log2(count / expected), follows the
// partition's own history of bursts, with a prior tail that falls 8-fold
// with every doubling beyond it. Each bucket teaches the burst history with
// weight (ln 0.05 / ln p)^2, by how possible it looked: recurring builds
// become normal within a week of recurrences, growing their own weight as they
// go, while one extraordinary spree (p = 1e-7: weight 0.03) barely moves it
// and a second one a day later still scores.
//
// Breadth: a burst also counts the executables that ran above their usual
// rate in it and never did so in an earlier burst of any partition. Bursts
// learn their breadth with their size, and the burst share of the tail is
// the share of bursts at least that large times the share at least that
// broad (prior: no news up to 3 such executables, then halving every 2). An
// admin login's motd scripts burst on every host early on; an intruder's
// recon sweep (whoami, id, hostname, netstat, last, find...) is a dozen
// executables no burst ever held, on a host whose builds make it busier.
//
// Multi-bucket: the sum of the last 12 buckets, and of a long window of 8
// hours (32 buckets of 15 minutes; off when that is not longer than 12
// buckets), each bucket clipped at mu + 3 sd so one spike cannot echo through
// the window, against the sum of their expectations, with a variance
// inflation learned per window from its residuals (seasonal misfit makes
// neighbouring residuals agree). A window scores only while at least 70% of
// its buckets are above expected: a rise lifts most buckets, while a few
// clipped bursts in a calm window lift few (and under the null fewer than
// half of a skewed count's buckets exceed its mean). Each window's
// probability is corrected for its own looks per day and the smaller one
// speaks. A gentle sustained rise that no single bucket shows scores here,
// the 12-bucket window for an hour or two of it, the long one for a night;
// multi_bucket_impact says so.
//
// Learning never takes an anomaly in whole: a bucket above mu + 3 sd updates
// the model with the bound, loosening over six hours of sustained excess so a
// real level shift is learned in the end.
//
// Better than Elastic, the probability of a record is per day of the
// partition: 1 - (1 - p)^(buckets per day), the chance that a whole day would
// hold a bucket this extreme (for a window of n buckets: 12 N / n looks for N
// buckets a day, see multiPerDay). A calibrated model fed a constant workload otherwise produces
// a chance "major" anomaly on every host every few days.

const (
	mbWindow       = 12
	mbLong         = 32       // most buckets of the long window: a night's rise
	mbLongSpan     = 8 * 3600 // seconds the long window covers, at most mbLong buckets
	mbUpShare      = 0.7      // of a window's buckets above expected, for it to score
	mbLooks        = 12.0     // independent looks per day at an n-bucket window, times n / buckets per day
	phiPrior       = 0.1      // prior over-dispersion while data is scarce
	phiMin         = 0.01     // never trust a model tighter than Poisson plus 10% CV
	muFloor        = 0.1      // a partition is never certainly silent
	bandZ          = 1.959963984540054
	winsorZ        = 3.0
	influenceFloor = 0.5 // ml-cpp's influence cutoff
	maxInfluencers = 10
	burstBins      = 48   // quarter-doublings of count over expected, up to 4096x
	burstBinWidth  = 0.25 // in log2 units
	burstPrior     = 1.0  // pseudo-bursts in the prior tail
	burstRatePrior = 0.1  // pseudo-bursts in burstRateObs pseudo-observations
	burstRateObs   = 10.0
	breadthBins    = 32  // distinct executables above their usual rate, capped
	breadthFree    = 3   // a burst this broad or narrower is no news
	breadthHalf    = 2.0 // further executables that halve the prior tail
)

type rateDetector struct {
	nonZero       bool
	none          bool
	learn         int32
	slots         int32
	bucketsPerDay float64
	alpha         float64 // level learning rate per bucket
	profDecay     float64 // per profile update
	dowDecay      float64 // per day-of-week update
	dispDecay     float64 // per observation
	shareDecay    float64 // per bucket with data
	mbDecay       float64 // per observation: three days
	states        []*rateState
	longN         int // buckets of the long window; off when no longer than mbWindow
	keepModel     bool
	modelFor      map[string]bool // nil: every partition

	contrib []contribution // scratch for influencers

	// Fleet burst drivers, per global executable: how many partitions it
	// drove a burst on, and the largest such burst; updated when a bucket
	// ends so partitions of one bucket never see each other.
	fleetDrivers []int32
	fleetSize    []float64
	pendDrivers  []pendingDriver
	// Per global executable: whether it ran above its usual rate in a
	// burst on any partition, updated when a bucket ends.
	fleetSeen []bool
	pendSeen  []int32
}

// pendingDriver is a partition's burst driver waiting for the bucket to end.
type pendingDriver struct {
	exe  int32
	size float64
	new  bool
}

type rateState struct {
	started bool
	nObs    int32
	profY   []float64 // [weekday slots..., weekend slots...]
	profE   []float64
	profN   []float64
	dowY    [7]float64
	dowE    [7]float64
	// The current day's observations wait here and join the profile and the
	// day-of-week weight when the day ends, so a day never explains itself.
	pendY    []float64
	pendE    []float64
	pendN    []float64
	pendDay  int64
	pendWE   bool
	pendDow  int32
	pendWY   float64
	pendWE2  float64
	levY     float64
	levE     float64
	day      int64
	dayLevel float64
	trend    float64 // level change per day
	days     int32
	dispE2   float64
	dispM1   float64
	dispM2   float64
	dispW    float64
	win      [mbLong]winEntry // the latest buckets, a ring
	winN     int
	winPos   int
	mbSq     [2]float64 // per window (short, long): decayed z^2 and weight
	mbW      [2]float64
	over     int32
	// Burst history, scaled by burstSc: sizes per bin, their total, and the
	// decayed number of observations.
	burst    [burstBins]float64
	breadth  [breadthBins]float64 // the same bursts by breadth
	burstTot float64
	burstSc  float64
	burstObs float64
	shareTot float64 // decayed executions, scaled; per executable in the cells' a
	shareSc  float64
	entShare []float64 // PartitionNone: decayed executions per entity, scaled
	entTot   float64
	// Burst drivers, per local executable: the decayed number of bursts it
	// drove (scaled by shareSc), the largest such burst in doublings, and
	// whether the fleet counts this partition among its drivers yet.
	drive     []float64
	driveSize []float64
	drove     []bool
	burstSeen []bool // per local executable: ran above its usual rate in a burst
	points    []ModelPoint
}

type winEntry struct{ y, mu, v float64 }

type contribution struct {
	id         int32
	name       string
	excess     float64
	infl       float64
	influencer bool
}

func newRateDetector(r *Runner) *rateDetector {
	bpd := r.bucketsPerDay
	d := &rateDetector{
		nonZero:       r.job.Function == FunctionHighNonZeroCount,
		none:          r.job.Partition == PartitionNone,
		learn:         int32(r.opts.RateLearningBuckets),
		slots:         int32((86400 + r.profileRes - 1) / r.profileRes),
		bucketsPerDay: bpd,
		alpha:         math.Min(0.5, 1/bpd),
		profDecay:     0.95, // per day a slot is seen: about three weeks
		dowDecay:      0.75, // per week: about four weeks
		dispDecay:     1 - 1/(7*bpd),
		shareDecay:    1 - 1/(7*bpd),
		mbDecay:       1 - 1/(3*bpd),
		longN:         int(min(mbLong, max(1, mbLongSpan/r.span))),
		keepModel:     r.opts.KeepModel,
	}
	if d.keepModel && len(r.opts.ModelPartitions) > 0 {
		d.modelFor = make(map[string]bool, len(r.opts.ModelPartitions))
		for _, p := range r.opts.ModelPartitions {
			d.modelFor[p] = true
		}
	}
	return d
}

func (d *rateDetector) state(t *table) *rateState {
	for int(t.id) >= len(d.states) {
		d.states = append(d.states, nil)
	}
	st := d.states[t.id]
	if st == nil {
		st = &rateState{
			profY: make([]float64, 2*d.slots),
			profE: make([]float64, 2*d.slots),
			profN: make([]float64, 2*d.slots),
			pendY: make([]float64, d.slots),
			pendE: make([]float64, d.slots),
			pendN: make([]float64, d.slots),
			day:   math.MinInt64, pendDay: math.MinInt64, shareSc: 1, burstSc: 1,
		}
		d.states[t.id] = st
	}
	return st
}

func (d *rateDetector) bucket(r *Runner, f *frame) {
	defer d.foldDrivers()
	if d.none {
		if r.fleet.hasData(f.seq) || (!d.nonZero && len(d.states) > 0) {
			d.step(r, f, r.fleet)
		}
		return
	}
	if d.nonZero {
		for _, e := range r.touched {
			d.step(r, f, r.ents[e])
		}
		return
	}
	for _, t := range r.parts { // high_count: every partition since its first data
		d.step(r, f, t)
	}
}

// prediction is the model's view of one bucket before it is seen.
type prediction struct {
	mu, v     float64 // mean and variance of the modelled count
	base      float64 // level without trend
	level, fw float64 // level forecast; profile x weekday weight
	profile   float64
	weight    float64
}

// predict forecasts the partition's count in the bucket at cal.
func (d *rateDetector) predict(st *rateState, cal calendar) prediction {
	base := 0.0
	if st.levE > 0 {
		base = st.levY / st.levE
	}
	level := base
	if st.days >= 3 {
		lag := (1 - d.alpha) / d.alpha / d.bucketsPerDay // in days
		level = math.Min(2*level, math.Max(0.5*level, level+st.trend*lag))
	}
	w := d.dowWeight(st, cal.dow, level)
	prof := d.profile(st, cal.weekend, cal.slot, level*w)
	mu := math.Max(muFloor, level*prof*w)
	phi := phiPrior
	if st.dispM2 > 0 {
		data := (st.dispE2 - st.dispM1) / st.dispM2
		prior := d.bucketsPerDay / 2
		phi = (st.dispW*data + prior*phiPrior) / (st.dispW + prior)
	}
	phi = math.Max(phiMin, phi)
	return prediction{mu: mu, v: mu + phi*mu*mu, base: base, level: level, fw: prof * w, profile: prof, weight: w}
}

// profile is the time-of-day factor of a slot, pooled with its neighbours
// while it has few observations and shrunk to its prior: flat, worth one
// observation, for weekdays; the weekday shape, worth four, for weekends,
// which come only twice a week and would otherwise follow one noisy Saturday.
// The prior's weight fades as the slot's own observations grow, so a deep
// night trough is not held up towards the daily mean for ever.
func (d *rateDetector) profile(st *rateState, weekend bool, slot int32, expected float64) float64 {
	prior, kappa := 1.0, 1.0
	base := int32(0)
	if weekend {
		prior, kappa = d.profile(st, false, slot, expected), 4
		base = d.slots
	}
	n := d.slots
	own := base + slot
	kappa /= 1 + st.profN[own]/2
	g := 4 / (4 + st.profN[own])
	sy, se := st.profY[own], st.profE[own]
	for k, w := range [...]float64{0.5, 0.25} {
		off := int32(k + 1)
		lo, hi := base+(slot-off+n)%n, base+(slot+off)%n
		sy += g * w * (st.profY[lo] + st.profY[hi])
		se += g * w * (st.profE[lo] + st.profE[hi])
	}
	if expected <= 0 {
		if se > 0 {
			return sy / se
		}
		return prior
	}
	return (sy + kappa*expected*prior) / (se + kappa*expected)
}

// dowWeight is the day-of-week factor, shrunk to 1 by one day of prior.
func (d *rateDetector) dowWeight(st *rateState, dow int32, level float64) float64 {
	prior := level * d.bucketsPerDay
	den := st.dowE[dow] + prior
	if den <= 0 {
		return 1
	}
	return (st.dowY[dow] + prior) / den
}

// step scores and then learns one bucket of one partition.
func (d *rateDetector) step(r *Runner, f *frame, t *table) {
	st := d.state(t)
	y := 0.0
	if t.hasData(f.seq) {
		y = float64(t.total)
	}
	off := 0.0
	if d.nonZero {
		off = 1
	}
	yo := y - off
	keep := d.keepModel && (d.modelFor == nil || d.modelFor[t.name])
	if !st.started {
		d.start(st, yo)
		if keep {
			st.points = append(st.points, ModelPoint{Bucket: f.start * 1000, Actual: y,
				Typical: y, Lower: y, Upper: y, Learning: true})
		}
		d.learnShares(r, f, t, st)
		return
	}
	pr := d.predict(st, f.cal)
	sd := math.Sqrt(pr.v)
	learning := st.nObs < d.learn
	point := int32(-1)
	if keep {
		point = int32(len(st.points))
		st.points = append(st.points, ModelPoint{
			Bucket: f.start * 1000, Actual: y, Typical: pr.mu + off,
			Lower:    countQuantile(pr.mu, pr.v, -bandZ) + off,
			Upper:    countQuantile(pr.mu, pr.v, bandZ) + off,
			Learning: learning,
		})
	}
	ycMB := math.Min(yo, pr.mu+winsorZ*sd) // this bucket's share of the window
	wins := [2]winSum{st.windowSum(mbWindow, ycMB, pr), st.windowSum(d.longN, ycMB, pr)}
	// The long window scores once the daily shape has had two days, as its
	// inflation learns, and once it holds only buckets the model scored:
	// before that an evening's sum mostly measures the model's ignorance.
	if d.longN <= mbWindow || float64(st.nObs) < 2*d.bucketsPerDay || st.nObs-d.learn < int32(d.longN)-1 {
		wins[1].full = false
	}
	p1, pFam := 1.0, 1.0
	burst := yo > pr.mu+winsorZ*sd
	fam, breadth := 0.0, 0
	if burst {
		fam = d.familiarity(r, t, st, pr.mu+off, burstSize(yo, pr.mu))
		breadth = d.burstBreadth(r, t, st, pr.mu+off)
	}
	if !learning {
		p1 = d.singleP(st, yo, pr.mu, pr.v, breadth)
		pFam = p1
		if keep := familiarKeep(fam); keep < 1 && p1 < 1 {
			pFam = math.Exp(keep * math.Log(p1))
		}
		// The window that gives the smaller probability, after each one's
		// correction for its looks per day, speaks for the bucket.
		pm, pmDay, win := 1.0, 1.0, 0
		if yo >= pr.mu {
			for i, w := range wins {
				if !w.full || float64(w.up) < mbUpShare*float64(w.n) {
					continue
				}
				p := quickUpper(w.S, w.M, st.inflation(i)*w.V)
				if pd := d.multiPerDay(p, w.n); pd < pmDay {
					pm, pmDay, win = p, pd, i
				}
			}
		}
		pDay := math.Min(perDay(pFam, d.bucketsPerDay), pmDay)
		raw := AnomalyScore(pDay)
		if raw > 0 {
			r.hist.add(raw, 1)
			r.cands = append(r.cands, d.record(r, f, t, st, pr, y, off, p1, pFam, fam, pm, pmDay, pDay, raw, wins[win], breadth, point))
		} else {
			r.hist.add(0, 1)
		}
	}
	if burst {
		w := 1.0
		if !learning && pFam < LargestSignificantProbability {
			w = math.Log(LargestSignificantProbability) / math.Log(math.Max(pFam, SmallestProbability))
			w *= w
		}
		d.learnDrivers(r, t, st, pr.mu+off, burstSize(yo, pr.mu), w)
	}
	d.learnBucket(st, f.cal, pr, yo, ycMB, wins, p1, breadth)
	d.learnShares(r, f, t, st)
}

// Burst drivers. A host's admin logins, its CI builds and the monthly package
// update come as bursts of the same executables again and again, and on many
// hosts of the fleet; a copy spree, a recon sweep or a fork storm is a mix the
// host never burst with, or a burst far larger than that mix ever made. So
// each burst (a bucket above mu + 3 sd) teaches which executables drove it
// (those holding at least a tenth of its excess over their usual shares) and
// how large it was; a later burst whose excess comes from such drivers, at a
// size within half a doubling of theirs, keeps only the unfamiliar share of
// its evidence: -ln p is multiplied by 1 - familiarity. A driver is familiar
// on its own partition by 1 - e^-n for n decayed bursts it drove (each
// weighted, as the burst history, by how possible its burst looked, so one
// extraordinary spree teaches little), and on the fleet by the share k/(n+1)
// of the other partitions it drove bursts on.

const (
	driverShare    = 0.1 // of a burst's excess, to count as its driver
	driverSizeSlop = 0.5 // doublings a burst may exceed its drivers' largest
)

// familiarity is the share, in [0, 1), of a burst's excess owed to familiar
// drivers at size m.
func (d *rateDetector) familiarity(r *Runner, t *table, st *rateState, expected, m float64) float64 {
	if d.none {
		return 0
	}
	cs := d.executableExcess(r, t, st, expected)
	others := float64(len(r.parts) - 1)
	var tot, famTot float64
	for _, c := range cs {
		tot += c.excess
		l := c.id
		own := 0.0
		if int(l) < len(st.drive) && st.drive[l] > 0 {
			own = -math.Expm1(-st.drive[l]/st.shareSc) * sizeGate(m-st.driveSize[l])
		}
		fleet := 0.0
		x := t.cells[l].exe
		if int(x) < len(d.fleetDrivers) && others > 0 {
			k := float64(d.fleetDrivers[x])
			if int(l) < len(st.drove) && st.drove[l] {
				k-- // this partition's own bursts count above
			}
			fleet = math.Max(0, k) / (others + 1) * sizeGate(m-d.fleetSize[x])
		}
		famTot += c.excess * (1 - (1-own)*(1-fleet))
	}
	if tot <= 0 {
		return 0
	}
	return math.Min(0.95, famTot/tot)
}

// familiarKeep is the share of a burst's evidence kept at familiarity fam:
// all of it while less than half the excess is familiar (a recon sweep shares
// cat, ls and ps with every admin login, but not whoami, last or netstat),
// falling linearly to 1 - fam as fam nears 1.
func familiarKeep(fam float64) float64 {
	const from = 0.4
	if fam <= from {
		return 1
	}
	return 1 - fam*(fam-from)/(1-from)
}

// sizeGate is how far a burst x doublings above its drivers' largest still
// counts as theirs: fully within driverSizeSlop, then falling 4-fold per
// doubling.
func sizeGate(x float64) float64 {
	if x <= driverSizeSlop {
		return 1
	}
	return math.Exp2(-2 * (x - driverSizeSlop))
}

// learnDrivers teaches the partition, and at the end of the bucket the
// fleet, the drivers of a burst of size m, with weight w.
func (d *rateDetector) learnDrivers(r *Runner, t *table, st *rateState, expected, m, w float64) {
	if d.none {
		return
	}
	cs := d.executableExcess(r, t, st, expected)
	tot := 0.0
	for _, c := range cs {
		tot += c.excess
	}
	for n := len(t.cells); len(st.drive) < n; {
		st.drive = append(st.drive, 0)
		st.driveSize = append(st.driveSize, 0)
		st.drove = append(st.drove, false)
	}
	for _, c := range cs {
		if c.excess < driverShare*tot {
			continue
		}
		l := c.id
		st.drive[l] += w * st.shareSc
		st.driveSize[l] = math.Max(st.driveSize[l], m)
		// The fleet learns a partition's drivers from bursts that looked
		// ordinary enough (weight at least a half): a single extraordinary
		// burst is not what "many hosts do".
		if w >= 0.5 {
			d.pendDrivers = append(d.pendDrivers, pendingDriver{exe: t.cells[l].exe, size: m, new: !st.drove[l]})
			st.drove[l] = true
		}
	}
}

// foldDrivers adds the bucket's burst drivers to the fleet's.
func (d *rateDetector) foldDrivers() {
	for _, p := range d.pendDrivers {
		for int(p.exe) >= len(d.fleetDrivers) {
			d.fleetDrivers = append(d.fleetDrivers, 0)
			d.fleetSize = append(d.fleetSize, 0)
		}
		if p.new {
			d.fleetDrivers[p.exe]++
		}
		d.fleetSize[p.exe] = math.Max(d.fleetSize[p.exe], p.size)
	}
	d.pendDrivers = d.pendDrivers[:0]
	for _, x := range d.pendSeen {
		for int(x) >= len(d.fleetSeen) {
			d.fleetSeen = append(d.fleetSeen, false)
		}
		d.fleetSeen[x] = true
	}
	d.pendSeen = d.pendSeen[:0]
}

// perDay is the chance that n independent tests give a probability at most
// p: 1 - (1 - p)^n.
func perDay(p, n float64) float64 {
	if !(p > 0) {
		return SmallestProbability
	}
	if p >= 1 {
		return 1
	}
	return math.Max(SmallestProbability, -math.Expm1(n*math.Log1p(-p)))
}

// multiPerDay corrects the probability of an n-bucket window for the windows
// in a day. The window slides one bucket at a time, so neighbouring windows
// share n-1 of n buckets; the number of independent looks at the maximum of a
// sliding sum over N buckets is about N u^2 / (2 n) at u standard deviations,
// 8 to 12 N / n where records turn major. The upper end is taken (a day's
// buckets for the 12-bucket window, 36 for the long one of 32): the windows'
// sums are skewed, and on quiet synthetic fleets the lower end let chance
// sustained rises reach major.
func (d *rateDetector) multiPerDay(p float64, n int) float64 {
	return perDay(p, math.Max(1, d.bucketsPerDay*mbLooks/float64(n)))
}

// winSum is a window's total, expected total and variance, this bucket
// included; full is false until the partition has n buckets behind it.
type winSum struct {
	S, M, V float64
	n, up   int // buckets, and those above expected
	full    bool
}

// windowSum sums the latest n-1 buckets of the ring and this one (yc, with
// the prediction pr).
func (st *rateState) windowSum(n int, yc float64, pr prediction) winSum {
	w := winSum{n: n}
	if st.winN < n {
		return w
	}
	for k := 1; k < n; k++ {
		e := &st.win[(st.winPos-k+mbLong)%mbLong]
		w.S, w.M, w.V = w.S+e.y, w.M+e.mu, w.V+e.v
		if e.y > e.mu {
			w.up++
		}
	}
	w.S, w.M, w.V, w.full = w.S+yc, w.M+pr.mu, w.V+pr.v, true
	if yc > pr.mu {
		w.up++
	}
	return w
}

// inflation is window i's learned variance inflation, at least 1.
func (st *rateState) inflation(i int) float64 {
	if st.mbW[i] > 0 {
		return math.Max(1, st.mbSq[i]/st.mbW[i])
	}
	return 1
}

// singleP is the probability of a bucket count at least y: the negative
// binomial core mixed with the partition's bursts, doubled as ml-cpp does.
func (d *rateDetector) singleP(st *rateState, y, mu, v float64, breadth int) float64 {
	sd := math.Sqrt(v)
	if y <= mu+sd {
		return 1
	}
	pi := (st.burstTot/st.burstSc + burstRatePrior) / (st.burstObs + burstRateObs)
	pi = math.Min(pi, 0.5)
	core := approxUpperTailProbability(y, mu, v) / 2
	if core < 0.1 {
		core = math.Exp(logUpperTail(y, mu, v))
	}
	tail := (1 - pi) * core
	if bound := mu + winsorZ*sd; y > bound {
		tail += pi * d.burstTail(st, burstSize(y, mu)) * d.breadthTail(st, breadth)
	} else {
		tail += pi
	}
	return math.Max(SmallestProbability, math.Min(1, 2*tail))
}

// burstSize is how far above expected a count is, in doublings.
func burstSize(y, mu float64) float64 { return math.Log2((y + 1) / (mu + 1)) }

// burstTail is the share of the partition's bursts at least size m, the
// prior included (its tail falls 8-fold per doubling: 2^(-3m)).
func (d *rateDetector) burstTail(st *rateState, m float64) float64 {
	m = math.Max(m, 0)
	prior := math.Exp2(-3 * m)
	above := 0.0
	for b := min(int(m/burstBinWidth), burstBins-1); b < burstBins; b++ {
		above += st.burst[b]
	}
	return (above/st.burstSc + burstPrior*prior) / (st.burstTot/st.burstSc + burstPrior)
}

// breadthTail is the share of the partition's bursts at least as broad as
// breadth (distinct executables above their usual rate), the prior included:
// no news up to breadthFree, then halving every breadthHalf executables. A
// build or a package update bursts with a handful of executables again and
// again; an intruder's recon sweep runs twenty different ones in minutes.
func (d *rateDetector) breadthTail(st *rateState, breadth int) float64 {
	if breadth <= breadthFree {
		return 1
	}
	prior := math.Exp2(-float64(breadth-breadthFree) / breadthHalf)
	above := 0.0
	for b := min(breadth, breadthBins-1); b < breadthBins; b++ {
		above += st.breadth[b]
	}
	return (above/st.burstSc + burstPrior*prior) / (st.burstTot/st.burstSc + burstPrior)
}

// burstBreadth is how many distinct executables ran at least one execution
// above their usual share of the expected total and never did so in an
// earlier burst, on this partition or any other (an admin login's motd
// scripts burst on every host of the fleet); it marks them as seen in a
// burst, for the fleet when the bucket ends.
func (d *rateDetector) burstBreadth(r *Runner, t *table, st *rateState, expected float64) int {
	for n := len(t.cells); len(st.burstSeen) < n; {
		st.burstSeen = append(st.burstSeen, false)
	}
	n := 0
	for _, c := range d.executableExcess(r, t, st, expected) {
		if c.excess < 1 || st.burstSeen[c.id] {
			continue
		}
		st.burstSeen[c.id] = true
		x := t.cells[c.id].exe
		if int(x) >= len(d.fleetSeen) || !d.fleetSeen[x] {
			n++
		}
		d.pendSeen = append(d.pendSeen, x)
	}
	return n
}

// learnBurst adds a bucket above mu + 3 sd to the burst history, weighted by
// how possible it looked, and ages the history by one observation.
func (d *rateDetector) learnBurst(st *rateState, y, mu, v, p float64, breadth int) {
	st.burstSc /= d.dispDecay
	st.burstObs = d.dispDecay*st.burstObs + 1
	if st.burstSc > rescaleAt {
		for i := range st.burst {
			st.burst[i] /= st.burstSc
		}
		for i := range st.breadth {
			st.breadth[i] /= st.burstSc
		}
		st.burstTot /= st.burstSc
		st.burstSc = 1
	}
	if y <= mu+winsorZ*math.Sqrt(v) {
		return
	}
	w := 1.0
	if p < LargestSignificantProbability {
		w = math.Log(LargestSignificantProbability) / math.Log(math.Max(p, SmallestProbability))
		w *= w
	}
	b := min(int(math.Max(burstSize(y, mu), 0)/burstBinWidth), burstBins-1)
	st.burst[b] += w * st.burstSc
	st.breadth[min(breadth, breadthBins-1)] += w * st.burstSc
	st.burstTot += w * st.burstSc
}

// quickUpper is upperTailProbability, skipping the exact tail when a cheap
// bound shows the count is nowhere near anomalous.
func quickUpper(y, mu, v float64) float64 {
	if y <= mu+math.Sqrt(v) {
		return 1
	}
	if a := approxUpperTailProbability(y, mu, v); a > 0.2 {
		return a
	}
	return upperTailProbability(y, mu, v)
}

// start initializes a partition from its first observation.
func (d *rateDetector) start(st *rateState, yo float64) {
	st.started = true
	st.levY, st.levE = math.Max(yo, 0), 1
	for i := range st.mbSq {
		st.mbSq[i], st.mbW[i] = 1.5*d.bucketsPerDay, d.bucketsPerDay
	}
	st.nObs = 1
}

// learnBucket folds one observation into the model.
func (d *rateDetector) learnBucket(st *rateState, cal calendar, pr prediction, yo, ycMB float64, wins [2]winSum, p1 float64, breadth int) {
	sd := math.Sqrt(pr.v)
	if st.nObs >= d.learn {
		d.learnBurst(st, yo, pr.mu, pr.v, p1, breadth)
	}
	yu := yo
	if st.nObs >= d.learn {
		if bound := pr.mu + winsorZ*sd; yo > bound {
			st.over++
			relax := math.Min(1, float64(st.over)/(d.bucketsPerDay/4))
			yu = bound + (yo-bound)*relax
		} else {
			st.over = 0
		}
	}
	yu = math.Max(yu, 0)
	// Dispersion from the residual of the prediction.
	e := yu - pr.mu
	st.dispE2 = d.dispDecay*st.dispE2 + e*e
	st.dispM1 = d.dispDecay*st.dispM1 + pr.mu
	st.dispM2 = d.dispDecay*st.dispM2 + pr.mu*pr.mu
	st.dispW = d.dispDecay*st.dispW + 1
	// Level: ratio of weighted sums of counts and of seasonal factors.
	st.levY = (1-d.alpha)*st.levY + d.alpha*yu
	st.levE = (1-d.alpha)*st.levE + d.alpha*pr.fw
	// Profile slot and day-of-week weight, pending until the day ends.
	if cal.day != st.pendDay {
		d.foldDay(st)
		st.pendDay, st.pendWE, st.pendDow = cal.day, cal.weekend, cal.dow
	}
	st.pendY[cal.slot] += yu
	st.pendE[cal.slot] += pr.level * pr.weight
	st.pendN[cal.slot]++
	st.pendWY += yu
	st.pendWE2 += pr.level * pr.profile
	// Trend from one day's level to the next.
	if cal.day != st.day {
		if st.day != math.MinInt64 {
			if st.days > 0 {
				st.trend = 0.7*st.trend + 0.3*(pr.base-st.dayLevel)/float64(cal.day-st.day)
			}
			st.days++
		}
		st.day, st.dayLevel = cal.day, pr.base
	}
	// Multi-bucket window and its variance inflation.
	// The window's variance inflation is learned once the daily shape has had
	// two days: before that the sums mostly measure the model's own ignorance.
	for i, w := range wins {
		if w.full && w.V > 0 && float64(st.nObs) >= 2*d.bucketsPerDay {
			z2 := (w.S - w.M) * (w.S - w.M) / w.V
			st.mbSq[i] = d.mbDecay*st.mbSq[i] + math.Min(z2, 9)
			st.mbW[i] = d.mbDecay*st.mbW[i] + 1
		}
	}
	st.win[st.winPos] = winEntry{y: ycMB, mu: pr.mu, v: pr.v}
	st.winPos = (st.winPos + 1) % mbLong
	if st.winN < mbLong {
		st.winN++
	}
	st.nObs++
}

// foldDay adds the finished day's observations to the profile and weight.
func (d *rateDetector) foldDay(st *rateState) {
	if st.pendDay == math.MinInt64 {
		return
	}
	base := int32(0)
	if st.pendWE {
		base = d.slots
	}
	for s := int32(0); s < d.slots; s++ {
		if st.pendN[s] == 0 {
			continue
		}
		i := base + s
		st.profY[i] = d.profDecay*st.profY[i] + st.pendY[s]
		st.profE[i] = d.profDecay*st.profE[i] + st.pendE[s]
		st.profN[i] = d.profDecay*st.profN[i] + 1
		st.pendY[s], st.pendE[s], st.pendN[s] = 0, 0, 0
	}
	// Day-of-week weights learn only once the rest of the model has seen
	// three days: measured against a model still finding the daily shape, a
	// first week's ratios would stay wrong for a month.
	if float64(st.nObs) >= 3*d.bucketsPerDay {
		st.dowY[st.pendDow] = d.dowDecay*st.dowY[st.pendDow] + st.pendWY
		st.dowE[st.pendDow] = d.dowDecay*st.dowE[st.pendDow] + st.pendWE2
	}
	st.pendWY, st.pendWE2 = 0, 0
}

// learnShares folds the bucket's executables into the partition's shares,
// which set each executable's expected count when explaining an anomaly.
func (d *rateDetector) learnShares(r *Runner, f *frame, t *table, st *rateState) {
	if !t.hasData(f.seq) {
		return
	}
	st.shareSc /= d.shareDecay
	if st.shareSc > rescaleAt {
		for i := range t.cells {
			t.cells[i].a /= st.shareSc
		}
		for i := range st.entShare {
			st.entShare[i] /= st.shareSc
		}
		for i := range st.drive {
			st.drive[i] /= st.shareSc
		}
		st.shareTot /= st.shareSc
		st.entTot /= st.shareSc
		st.shareSc = 1
	}
	for _, l := range t.present {
		c := &t.cells[l]
		c.a += float64(c.cnt) * st.shareSc
	}
	st.shareTot += float64(t.total) * st.shareSc
	if d.none {
		for len(st.entShare) < len(r.ents) {
			st.entShare = append(st.entShare, 0)
		}
		for _, e := range r.touched {
			st.entShare[e] += float64(r.ents[e].total) * st.shareSc
		}
		st.entTot += float64(t.total) * st.shareSc
	}
}

func (d *rateDetector) record(r *Runner, f *frame, t *table, st *rateState, pr prediction,
	y, off, p1, pFam, fam, pm, pmDay, pDay, raw float64, win winSum, breadth int, point int32) candidate {
	lower := countQuantile(pr.mu, pr.v, -bandZ) + off
	upper := countQuantile(pr.mu, pr.v, bandZ) + off
	multi := pmDay < perDay(pFam, d.bucketsPerDay) // which made the record
	impact := multiBucketImpact(pFam, pm)
	rec := Record{
		PartitionFieldName: r.job.PartitionFieldName(),
		Actual:             []float64{y},
		Typical:            []float64{pr.mu + off},
		MultiBucketImpact:  impact,
		Explanation: Explanation{
			AnomalyType:             "spike",
			LowerConfidenceBound:    lower,
			TypicalValue:            pr.mu + off,
			UpperConfidenceBound:    upper,
			SingleBucketProbability: pFam,
			BurstFamiliarity:        fam,
			BurstBreadth:            breadth,
			MultiBucketProbability:  pm,
		},
	}
	if win.full {
		rec.Explanation.MultiBucketActual = win.S + float64(win.n)*off
		rec.Explanation.MultiBucketTypical = win.M + float64(win.n)*off
		rec.Explanation.MultiBucketBuckets = win.n
	}
	// Influence is measured on the single bucket. A record made by a
	// window is a sustained shift of the whole partition: this
	// bucket's split says little about it, so it names the partition only
	// and the sentence lists the largest contributors.
	yo := y - off
	without := func(x float64) (p, pRec float64) {
		p = d.singleP(st, yo-x, pr.mu, pr.v, breadth)
		return p, perDay(p, d.bucketsPerDay)
	}
	pUsed := p1
	if multi {
		pUsed = 1
	}
	excs := influences(d.executableExcess(r, t, st, pr.mu+off), pUsed, without)
	var influencers []Influencer
	var exeNames []string
	for _, c := range excs {
		if c.influencer && len(exeNames) < r.opts.MaxInfluencerValues {
			exeNames = append(exeNames, c.name)
		}
	}
	if d.none {
		hosts := influences(d.entityExcess(r, st, pr.mu+off), pUsed, without)
		var names []string
		for _, c := range hosts {
			if c.influencer && len(names) < r.opts.MaxInfluencerValues {
				names = append(names, c.name)
			}
		}
		if len(names) > 0 {
			influencers = append(influencers, Influencer{FieldName: r.job.EntityField, FieldValues: names})
			rec.Entity = names[0]
		}
	} else {
		rec.PartitionFieldValue, rec.Entity = t.name, t.name
		influencers = append(influencers, Influencer{FieldName: r.job.EntityField, FieldValues: []string{t.name}})
	}
	if len(exeNames) > 0 {
		influencers = append(influencers, Influencer{FieldName: FieldExecutable, FieldValues: exeNames})
	}
	rec.Influencers = influencers
	rec.Why = rateWhy(y, pr.mu+off, lower, upper, multi, rec.Explanation, exeNames, excs)
	return candidate{raw: raw, p: pDay, part: t.id, rec: rec, point: point, sortBy: t.name}
}

// executableExcess lists the executables that ran above their usual share of
// an expected total.
func (d *rateDetector) executableExcess(r *Runner, t *table, st *rateState, expected float64) []contribution {
	d.contrib = d.contrib[:0]
	for _, l := range t.present {
		share := 0.0
		if st.shareTot > 0 {
			share = t.cells[l].a / st.shareTot
		}
		if x := float64(t.cells[l].cnt) - share*expected; x > 0 {
			d.contrib = append(d.contrib, contribution{id: l, name: r.exeNames.name(t.cells[l].exe), excess: x})
		}
	}
	return d.contrib
}

// entityExcess is executableExcess for the entities of a fleet-wide series.
func (d *rateDetector) entityExcess(r *Runner, st *rateState, expected float64) []contribution {
	var out []contribution
	for _, e := range r.touched {
		share := 0.0
		if st.entTot > 0 && int(e) < len(st.entShare) {
			share = st.entShare[e] / st.entTot
		}
		if x := float64(r.ents[e].total) - share*expected; x > 0 {
			out = append(out, contribution{id: e, name: r.ents[e].name, excess: x})
		}
	}
	return out
}

// influences decides which contributors drove an anomaly. Each gets ml-cpp's
// complement influence, 1 - ln P(without it) / ln P, and is an influencer at
// 0.5 or more. Two processes sharing a burst (ssh and scp) each leave an
// anomalous remainder on their own, so neither reaches 0.5 that way. Hence
// also: the smallest group, taken in order of excess, whose removal leaves a
// bucket that would make no record; every member that would make a record
// on its own (the rest of the group removed) is an influencer too, with
// influence ln P(only it) / ln P if that is higher.
func influences(cs []contribution, p float64, without func(float64) (p, pRec float64)) []contribution {
	slices.SortFunc(cs, func(a, b contribution) int {
		if c := cmp.Compare(b.excess, a.excess); c != 0 {
			return c
		}
		return strings.Compare(a.name, b.name)
	})
	if len(cs) > maxInfluencers {
		cs = cs[:maxInfluencers]
	}
	if len(cs) == 0 || !(p < 1) {
		return cs
	}
	lp := math.Log(math.Max(p, SmallestProbability))
	logRatio := func(pw float64) float64 {
		return math.Max(0, math.Min(1, math.Log(math.Max(pw, SmallestProbability))/lp))
	}
	for i := range cs {
		pw, _ := without(cs[i].excess)
		cs[i].infl = 1 - logRatio(pw)
		cs[i].influencer = cs[i].infl >= influenceFloor
	}
	removed, group := 0.0, len(cs)
	for i := range cs {
		removed += cs[i].excess
		if _, rec := without(removed); rec >= LargestSignificantProbability {
			group = i + 1
			break
		}
	}
	if group > 1 {
		for j := 0; j < group; j++ {
			pOnly, recOnly := without(removed - cs[j].excess)
			if recOnly < LargestSignificantProbability {
				cs[j].influencer = true
				cs[j].infl = math.Max(cs[j].infl, logRatio(pOnly))
			}
		}
	}
	slices.SortStableFunc(cs, func(a, b contribution) int {
		if a.influencer != b.influencer {
			return cmp.Compare(b2i(b.influencer), b2i(a.influencer))
		}
		return cmp.Compare(b.infl, a.infl)
	})
	return cs
}

// multiBucketImpact is ml-cpp's measure, in [-5, 5], of how much the
// multi-bucket probability rather than the single-bucket one made the record.
func multiBucketImpact(p1, pm float64) float64 {
	ls := math.Log(math.Max(p1, SmallestProbability))
	lm := math.Log(math.Max(pm, SmallestProbability))
	scale := 5 * math.Min(ls, lm) / math.Min(math.Max(ls, lm), -0.001) / math.Log(1000)
	return math.Max(-5, math.Min(5, scale*(ls-lm)))
}

func rateWhy(y, typical, lower, upper float64, multi bool, ex Explanation, drivers []string, excs []contribution) string {
	var b strings.Builder
	if multi {
		fmt.Fprintf(&b, "sustained rise: %.0f executions in the last %d buckets vs %.0f expected; this bucket %.0f vs %.0f expected",
			ex.MultiBucketActual, ex.MultiBucketBuckets, ex.MultiBucketTypical, y, typical)
	} else {
		fmt.Fprintf(&b, "%.0f executions vs %.0f expected (95%% band %.0f-%.0f)", y, typical, lower, upper)
	}
	if ex.BurstFamiliarity >= 0.1 {
		fmt.Fprintf(&b, "; %.0f%% of the excess from executables that burst like this before", 100*ex.BurstFamiliarity)
	}
	if ex.BurstBreadth > breadthFree {
		fmt.Fprintf(&b, "; %d executables no burst on any host ran before", ex.BurstBreadth)
	}
	if len(drivers) > 0 {
		fmt.Fprintf(&b, "; driven by %s", strings.Join(sortedCopy(drivers), ", "))
	} else if len(excs) > 0 {
		names := make([]string, 0, 3)
		for _, c := range excs[:min(3, len(excs))] {
			names = append(names, c.name)
		}
		fmt.Fprintf(&b, "; largest contributors %s", strings.Join(names, ", "))
	}
	return b.String()
}

func sortedCopy(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

func (d *rateDetector) setPointScore(part, point int32, score float64) {
	if int(part) < len(d.states) && d.states[part] != nil && int(point) < len(d.states[part].points) {
		d.states[part].points[point].Score = score
	}
}

func (d *rateDetector) model(r *Runner) map[string][]ModelPoint {
	if !d.keepModel {
		return nil
	}
	out := make(map[string][]ModelPoint)
	for _, t := range r.parts {
		if int(t.id) < len(d.states) && d.states[t.id] != nil && len(d.states[t.id].points) > 0 {
			out[t.name] = slices.Clone(d.states[t.id].points)
		}
	}
	return out
}
