package engine

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// The rare model, per partition (ml-cpp's multinomial over by-field values):
//
//   - Each bucket in which an executable runs adds one to its concentration,
//     whatever its event count. Old evidence decays with a 14-day half-life,
//     counted in buckets in which the partition had data.
//   - The probability of a value is the total share of the values at most as
//     common as it (ties included). Only buckets after the learning period
//     (20 buckets with data) score.
//   - A value the partition never ran gets the smallest probability currently
//     held, or less: the chance that an occurrence is of a new value, from
//     the partition's own rate of new values since learning (a Dirichlet
//     process: (new + 1/2) / (occurrences + 1)). A very regular host, whose
//     values are all equally common, would otherwise see nothing new at all.
//   - Better than Elastic, no probability goes below 1 / (buckets the
//     partition had data in + 1): a history of n buckets cannot vouch for
//     anything rarer than one in n. On a host's first day every new daemon
//     and cron job is "rare" to Elastic; here they stay minor until the
//     history can tell, and a first occurrence after a month is critical.
//   - Better than Elastic: a value the partition ran before is no rarer than
//     its share of days (the same share computed over the days each value
//     ran on), so a nightly job stops scoring once it has run on most days.
//   - Better than Elastic, fleet context (Options.FleetContext): see
//     fleetAdjust.

const (
	rareHalfLifeDays = 14.0
	rareThreshold    = LargestSignificantProbability
	rescaleAt        = 1e100
)

type rareDetector struct {
	learn    int32
	decay    float64 // per bucket with data
	dayDecay float64 // per day
	fleetCtx bool
	none     bool
	states   []*rareState // per partition

	// Fleet prevalence per global executable: how many entities ran it in
	// earlier buckets, and in the current bucket (all, and first-timers).
	fBefore, fStamp, fCur, fNew []int32
	fList                       []int32
	// Fleet novelty, in buckets of entities with a day of history: how
	// many brought an executable no entity ran before. Decayed.
	fleetNovel, fleetOcc float64
	day                  float64 // buckets per day

	cands     []rareCand
	byPos     []int32
	entsOfExe []string
}

type rareCand struct {
	l     int32
	p     float64
	first bool
}

// rareState is one partition's multinomial, in scaled units: the scale grows
// each bucket instead of every value decaying. Bucket concentrations live in
// the order (a cell's pos finds its entry), so the low-tail walk reads one
// contiguous slice; day concentrations live in the cells' b.
type rareState struct {
	order  []ranked // values that ran, ascending by concentration
	scale  float64
	total  float64
	novel  float64 // first occurrences since learning, scaled
	occ    float64 // occurrences since learning, scaled
	dscale float64
	dtotal float64
	day    int64
}

// ranked is one value in a partition's order.
type ranked struct {
	conc float64
	l    int32
}

func newRareDetector(r *Runner) *rareDetector {
	span := float64(r.span)
	return &rareDetector{
		learn:    int32(r.opts.LearningBuckets),
		decay:    math.Exp2(-span / (rareHalfLifeDays * 86400)),
		dayDecay: math.Exp2(-1 / rareHalfLifeDays),
		fleetCtx: r.opts.FleetContext,
		none:     r.job.Partition == PartitionNone,
		day:      r.bucketsPerDay,
	}
}

func (d *rareDetector) state(t *table) *rareState {
	for int(t.id) >= len(d.states) {
		d.states = append(d.states, &rareState{scale: 1, dscale: 1, day: math.MinInt64})
	}
	return d.states[t.id]
}

func (d *rareDetector) setPointScore(int32, int32, float64) {}

func (d *rareDetector) model(*Runner) map[string][]ModelPoint { return nil }

func (d *rareDetector) bucket(r *Runner, f *frame) {
	if len(r.touched) == 0 {
		return
	}
	d.fleetPass(r, f.seq)
	pf := (d.fleetNovel + 0.5) / (d.fleetOcc + 1)
	if d.none {
		if r.fleet.hasData(f.seq) {
			d.score(r, f, r.fleet, pf)
			d.learnBucket(f, r.fleet)
		}
	} else {
		for _, e := range r.touched {
			t := r.ents[e]
			d.score(r, f, t, pf)
			d.learnBucket(f, t)
		}
	}
	d.fleetEnd(r, f.seq)
}

// fleetPass counts, per executable, the entities running it in this bucket.
func (d *rareDetector) fleetPass(r *Runner, seq int32) {
	for n := r.exeNames.len(); len(d.fBefore) < n; {
		d.fBefore = append(d.fBefore, 0)
		d.fStamp = append(d.fStamp, -1)
		d.fCur = append(d.fCur, 0)
		d.fNew = append(d.fNew, 0)
	}
	d.fList = d.fList[:0]
	for _, e := range r.touched {
		t := r.ents[e]
		for _, l := range t.present {
			x := t.cells[l].exe
			if d.fStamp[x] != seq {
				d.fStamp[x], d.fCur[x], d.fNew[x] = seq, 0, 0
				d.fList = append(d.fList, x)
			}
			d.fCur[x]++
			if t.cells[l].first == seq {
				d.fNew[x]++
			}
		}
	}
}

// fleetEnd folds this bucket into the fleet's history.
func (d *rareDetector) fleetEnd(r *Runner, seq int32) {
	d.fleetNovel *= d.decay
	d.fleetOcc *= d.decay
	for _, e := range r.touched {
		t := r.ents[e]
		// Only entities with a day of history count: on its first day every
		// daily job is new, and a fleet's first day would otherwise teach it
		// that new binaries are common, for weeks.
		if float64(t.dataBuckets) < math.Max(float64(d.learn), d.day) {
			continue
		}
		d.fleetOcc++
		for _, l := range t.present {
			if d.fBefore[t.cells[l].exe] == 0 {
				d.fleetNovel++
				break
			}
		}
	}
	for _, x := range d.fList {
		d.fBefore[x] += d.fNew[x]
	}
}

// score finds the partition's rare values in this bucket.
func (d *rareDetector) score(r *Runner, f *frame, t *table, pf float64) {
	st := d.state(t)
	if t.dataBuckets < d.learn {
		return
	}
	seq := f.seq
	d.cands = d.cands[:0]
	minP := 1.0
	if st.total > 0 {
		// Walk the low tail only: once the share reaches 0.05 nothing above
		// scores, and below the lowest value that ran nothing needs checking.
		lowest := len(st.order)
		for _, l := range t.present {
			if p := int(t.cells[l].pos); p >= 0 && p < lowest {
				lowest = p
			}
		}
		cum := 0.0
		for i := 0; i < len(st.order); {
			v := st.order[i].conc
			j := i
			for j < len(st.order) && st.order[j].conc == v {
				cum += v
				j++
			}
			p := cum / st.total
			if i == 0 {
				minP = p
			}
			if p >= rareThreshold {
				break
			}
			if j > lowest {
				for _, e := range st.order[max(i, lowest):j] {
					if t.cells[e.l].last == seq {
						d.cands = append(d.cands, rareCand{l: e.l, p: p})
					}
				}
			}
			i = j
		}
	}
	floor := 1 / float64(t.dataBuckets+1)
	pNew := math.Max(floor, math.Min(minP, (st.novel+0.5*st.scale)/(st.occ+st.scale)))
	for _, l := range t.present {
		if t.cells[l].first == seq && pNew < rareThreshold {
			d.cands = append(d.cands, rareCand{l: l, p: pNew, first: true})
		}
	}
	scored := 0
	for _, c := range d.cands {
		p := math.Max(c.p, floor)
		if !c.first {
			p = math.Max(p, d.dayShare(t, st, c.l))
		}
		pPart := p
		fc := d.fleetContext(r, t, c.l, seq)
		if d.fleetCtx && !d.none {
			p = d.fleetAdjust(p, fc, pf, float64(t.dataBuckets) >= d.day)
		}
		raw := AnomalyScore(p)
		if raw <= 0 {
			continue
		}
		scored++
		r.hist.add(raw, 1)
		r.cands = append(r.cands, d.record(r, f, t, st, c, p, pPart, raw, fc))
	}
	r.hist.add(0, int64(len(t.present)-scored))
}

// dayShare is the share of day-level concentration of the values that ran on
// at most as many days as this one.
func (d *rareDetector) dayShare(t *table, st *rareState, l int32) float64 {
	if st.dtotal <= 0 {
		return 1
	}
	v := t.cells[l].b
	s := 0.0
	for i := range t.cells {
		if c := t.cells[i].b; c > 0 && c <= v {
			s += c
		}
	}
	return math.Min(1, s/st.dtotal)
}

// fleetContext counts how the rest of the fleet ran value l of table t.
func (d *rareDetector) fleetContext(r *Runner, t *table, l int32, seq int32) FleetContext {
	c := &t.cells[l]
	x := c.exe
	fc := FleetContext{HostsTotal: len(r.ents), FirstInFleet: d.fBefore[x] == 0, Weight: 1}
	if d.none {
		fc.HostsBefore, fc.HostsSameBucket = int(d.fBefore[x]), int(d.fCur[x])
		return fc
	}
	fc.HostsBefore = int(d.fBefore[x]) - b2i(c.first < seq)
	fc.HostsSameBucket = int(d.fCur[x]) - 1
	fc.othersNew = int(d.fNew[x]) - b2i(c.first == seq)
	if !d.fleetCtx {
		fc.Weight = 0
	}
	return fc
}

// fleetAdjust applies fleet context to a per-host probability p.
//
// The rule: with k of the other n hosts having run the executable (before or
// in this bucket), the evidence -ln p keeps the share 1 - k/(n+1) of itself.
// A value new here but run by most of the fleet (a rollout, a package every
// host has) drops to nearly nothing; one run by a few hosts loses a little
// (an attacker's tool copied to a second host still scores); one run nowhere
// else keeps it all. When no host at all ran it before, there are at least
// two other hosts and this host has a day of history (known is its daily
// routine), the fleet's own rate of entity-buckets bringing a brand-new
// executable, pf, is combined with p (Fisher's method, never weakening p): the
// first appearance of a binary anywhere is the strongest signal there is.
func (d *rareDetector) fleetAdjust(p float64, fc FleetContext, pf float64, settled bool) float64 {
	others := fc.HostsTotal - 1
	k := fc.HostsBefore + fc.othersNew // distinct other hosts, before or now
	if k > others {
		k = others
	}
	w := 1.0
	if others > 0 {
		w = 1 - float64(k)/float64(others+1)
	}
	out := p
	if w < 1 {
		out = math.Exp(w * math.Log(p))
	}
	if fc.FirstInFleet && fc.HostsSameBucket == 0 && others >= 2 && settled {
		x := math.Max(out*pf, SmallestProbability)
		out = math.Min(out, x*(1-math.Log(x)))
	}
	return out
}

func (d *rareDetector) record(r *Runner, f *frame, t *table, st *rareState, c rareCand,
	p, pPart, raw float64, fc FleetContext) candidate {
	seq := f.seq
	cl := &t.cells[c.l]
	exe := r.exeNames.name(cl.exe)
	ts := func(s int32) int64 { return (f.start - int64(seq-s)*r.span) * 1000 }
	rec := Record{
		PartitionFieldName: r.job.PartitionFieldName(),
		ByFieldName:        r.job.ByFieldName,
		ByFieldValue:       exe,
		Actual:             []float64{1},
		Typical:            []float64{p},
		Explanation: Explanation{
			ByFieldFirstOccurrence: c.first,
			PartitionProbability:   pPart,
		},
		FirstSeen:   ts(cl.first),
		SeenBuckets: int64(cl.runs - 1),
	}
	if cl.prev >= 0 {
		rec.LastSeen = ts(cl.prev)
	}
	if !c.first && cl.pos >= 0 && st.order[cl.pos].conc > 0 {
		rec.Explanation.ByFieldRelativeRarity = st.order[len(st.order)/2].conc / st.order[cl.pos].conc
	}
	if d.fleetCtx && !d.none {
		fc.Applied = p != pPart
		if pPart < 1 && p < 1 {
			fc.Weight = math.Log(p) / math.Log(pPart)
		}
	}
	rec.Fleet = &fc
	word := entityWord(r.job.Scope)
	var entities []string
	if d.none {
		entities = d.entitiesRunning(r, cl.exe, seq)
		if len(entities) > 0 {
			rec.Entity = entities[0]
		}
	} else {
		rec.PartitionFieldValue, rec.Entity = t.name, t.name
		entities = []string{t.name}
	}
	rec.Influencers = []Influencer{
		{FieldName: r.job.EntityField, FieldValues: entities},
		{FieldName: r.job.ByFieldName, FieldValues: []string{exe}},
	}
	rec.Why = d.why(word, t, c, fc, f.seq)
	return candidate{raw: raw, p: p, part: t.id, rec: rec, point: -1, sortBy: t.name + "\x00" + exe}
}

// entitiesRunning lists, sorted and capped, the entities running x in seq.
func (d *rareDetector) entitiesRunning(r *Runner, x int32, seq int32) []string {
	d.entsOfExe = d.entsOfExe[:0]
	for _, e := range r.touched {
		t := r.ents[e]
		if l, ok := t.ids.get(x); ok && t.cells[l].last == seq {
			d.entsOfExe = append(d.entsOfExe, t.name)
		}
	}
	slices.Sort(d.entsOfExe)
	n := min(len(d.entsOfExe), r.opts.MaxInfluencerValues)
	return slices.Clone(d.entsOfExe[:n])
}

func (d *rareDetector) why(word string, t *table, c rareCand, fc FleetContext, seq int32) string {
	var b strings.Builder
	where := "on this " + word
	if d.none {
		where = "in the fleet"
	}
	if c.first {
		fmt.Fprintf(&b, "first time %s", where)
	} else {
		runs := int(t.cells[c.l].runs - 1)
		every := max(1, int(math.Round(float64(t.dataBuckets)/float64(max(runs, 1)))))
		fmt.Fprintf(&b, "seen in 1 of every %d buckets %s (%d before)", every, where, runs)
	}
	if d.none {
		fmt.Fprintf(&b, "; ran before on %d of %d %ss, on %d in this bucket",
			fc.HostsBefore, fc.HostsTotal, word, fc.HostsSameBucket)
		return b.String()
	}
	if fc.HostsTotal <= 1 {
		return b.String() // no fleet to compare with
	}
	fmt.Fprintf(&b, "; seen on %d of %d other %ss before", fc.HostsBefore, fc.HostsTotal-1, word)
	if fc.HostsSameBucket > 0 {
		fmt.Fprintf(&b, ", %d in this bucket", fc.HostsSameBucket)
	}
	if fc.FirstInFleet && fc.HostsSameBucket == 0 && fc.HostsTotal > 1 {
		b.WriteString("; first time anywhere in the fleet")
	}
	if fc.Applied && fc.Weight < 0.9 {
		b.WriteString("; score lowered by fleet context")
	}
	return b.String()
}

// learnBucket folds the bucket into the partition's multinomial. Only the
// values that ran move: each is raised by the current scale and bubbled up
// past smaller values, top first, so the order stays sorted while a bucket
// touches little more than the cells that ran.
func (d *rareDetector) learnBucket(f *frame, t *table) {
	st := d.state(t)
	seq := f.seq
	st.scale /= d.decay
	if st.scale > rescaleAt {
		st.rescale()
	}
	// New values enter at the bottom of the order.
	firsts := 0
	for _, l := range t.present {
		if t.cells[l].pos < 0 {
			firsts++
		}
	}
	if firsts > 0 {
		n := len(st.order)
		st.order = slices.Grow(st.order, firsts)[:n+firsts]
		copy(st.order[firsts:], st.order[:n])
		k := 0
		for _, l := range t.present {
			if t.cells[l].pos < 0 {
				st.order[k] = ranked{l: l}
				t.cells[l].pos = int32(k)
				k++
			}
		}
		for i := firsts; i < len(st.order); i++ {
			t.cells[st.order[i].l].pos = int32(i)
		}
	}
	// Raise the values that ran, from the top of the order down.
	d.byPos = append(d.byPos[:0], t.present...)
	slices.SortFunc(d.byPos, func(a, b int32) int { return int(t.cells[b].pos - t.cells[a].pos) })
	order := st.order
	for _, l := range d.byPos {
		c := &t.cells[l]
		p := int(c.pos)
		e := order[p]
		e.conc += st.scale
		for p+1 < len(order) && order[p+1].conc < e.conc {
			order[p] = order[p+1]
			t.cells[order[p].l].pos = int32(p)
			p++
		}
		order[p], c.pos = e, int32(p)
	}
	st.total += st.scale * float64(len(t.present))
	if t.dataBuckets >= d.learn {
		newHere := 0
		for _, l := range t.present {
			newHere += b2i(t.cells[l].first == seq)
		}
		st.occ += st.scale * float64(len(t.present))
		st.novel += st.scale * float64(newHere)
	}

	// Day level: one count per day a value runs on.
	if f.cal.day != st.day {
		if st.day != math.MinInt64 {
			st.dscale /= math.Pow(d.dayDecay, float64(f.cal.day-st.day))
			if st.dscale > rescaleAt {
				st.rescaleDays(t)
			}
		}
		st.day = f.cal.day
	}
	day := int32(f.cal.day)
	for _, l := range t.present {
		if c := &t.cells[l]; c.day != day {
			c.day = day
			c.b += st.dscale
			st.dtotal += st.dscale
		}
	}
}

func (st *rareState) rescale() {
	s := st.scale
	for i := range st.order {
		st.order[i].conc /= s
	}
	st.total /= s
	st.novel /= s
	st.occ /= s
	st.scale = 1
}

func (st *rareState) rescaleDays(t *table) {
	s := st.dscale
	for i := range t.cells {
		t.cells[i].b /= s
	}
	st.dtotal /= s
	st.dscale = 1
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func entityWord(s Scope) string {
	if s == ScopeContainer {
		return "container"
	}
	return "host"
}
