package fleetgen

import (
	"math"
	"math/bits"
)

// profile is a weekly rhythm: the share, 0..1, of an activity's peak rate at
// each minute of the week in the fleet's office time zone.
type profile uint8

const (
	profFlat    profile = iota
	profOffice          // people at work: weekdays 08-18, quiet nights and weekends
	profTraffic         // users of a service: a daily wave, lower on weekends
	numProfiles
)

const minutesPerWeek = 7 * 24 * 60

func (f *Fleet) buildProfiles() {
	for p := profile(0); p < numProfiles; p++ {
		t := make([]float32, minutesPerWeek)
		sum := 0.0
		for m := range t {
			day := m / 1440 // 0 = Monday
			h := float64(m%1440) / 60
			weekend := day >= 5
			var v float64
			switch p {
			case profFlat:
				v = 1
			case profOffice:
				v = officeShare(h, weekend)
			case profTraffic:
				v = 0.3 + 0.7*(0.5-0.5*math.Cos(2*math.Pi*(h-4)/24))
				if weekend {
					v *= 0.65
				}
			}
			t[m] = float32(v)
			sum += v
		}
		f.prof[p] = t
		f.profMean[p] = sum / minutesPerWeek
	}
}

func officeShare(h float64, weekend bool) float64 {
	if weekend {
		if h >= 10 && h < 20 {
			return 0.05
		}
		return 0.015
	}
	switch {
	case h < 7:
		return 0.015
	case h < 8:
		return 0.015 + 0.6*(h-7)
	case h < 12:
		return 1
	case h < 13:
		return 0.7
	case h < 17:
		return 1
	case h < 19:
		return 1 - 0.43*(h-17)
	case h < 23:
		return 0.12
	default:
		return 0.04
	}
}

// profileAt is the share of the peak rate at a unix millisecond.
func (f *Fleet) profileAt(p profile, ms int64) float64 {
	m := floorDiv(ms, minuteMS) + int64(f.tzOffset)*60 + 3*1440 // 1970-01-01 was a Thursday
	return float64(f.prof[p][mod(m, minutesPerWeek)])
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func mod(a, b int64) int64 {
	m := a % b
	if m < 0 {
		m += b
	}
	return m
}

// schedKind says how an activity's jobs are spread over time.
type schedKind uint8

const (
	schedCron     schedKind = iota // fixed minutes, hours and weekdays (UTC, as the hosts run)
	schedInterval                  // every so often from a fixed phase, as timers and pollers do
	schedPoisson                   // random arrivals following a profile
	schedRandom                    // a fixed number of times a day at random (systemd's RandomizedDelaySec)
	schedOnce                      // once, at a fixed time
)

// activity is one source of jobs on an entity: a crontab line, a timer, a
// poller, users of a service, administrators logging in, an intruder.
type activity struct {
	key   string // what the activity is, for calibration caching
	sched schedKind
	// cron
	minutes uint64
	hours   uint32
	dows    uint8 // bit 0 = Sunday
	// interval
	every, phase int64
	// interval, cron and random: one-sided start delay
	jitter int64
	// poisson: jobs per hour at the profile's peak; random: jobs per day
	perHour float64
	perDay  int
	prof    profile
	// variable activities scale with the entity's calibrated rate
	variable bool
	at       int64 // once
	// from and to bound the nominal start of jobs: [from, to), 0 is open
	from, to int64
	shape    func(*shaper)
	label    int // index into the fleet's labels, -1 for normal life
	noDup    bool
}

// modulator multiplies an entity's normal jobs over a window, peaking in its
// middle: the night-rise incident.
type modulator struct {
	from, to int64
	peak     float64
	label    int
}

func (m *modulator) factor(t int64) float64 {
	if t < m.from || t >= m.to {
		return 1
	}
	// A trapezoid: a ramp over the first and last quarters.
	x := float64(t-m.from) / float64(m.to-m.from)
	w := 1.0
	switch {
	case x < 0.25:
		w = x / 0.25
	case x > 0.75:
		w = (1 - x) / 0.25
	}
	return 1 + (m.peak-1)*w
}

// cronSpec builds the minute, hour and weekday masks of a cron line.
func cronMinutes(ms ...int) uint64 {
	var m uint64
	for _, x := range ms {
		m |= 1 << uint(x)
	}
	return m
}

func everyMinutes(step, offset int) uint64 {
	var m uint64
	for x := offset % step; x < 60; x += step {
		m |= 1 << uint(x)
	}
	return m
}

const (
	allHours = uint32(1<<24 - 1)
	allDays  = uint8(0x7f)
)

func hoursMask(hs ...int) uint32 {
	var m uint32
	for _, h := range hs {
		m |= 1 << uint(h)
	}
	return m
}

// jobsPerDay is the mean number of jobs a day at scale 1.
func (f *Fleet) jobsPerDay(a *activity) float64 {
	switch a.sched {
	case schedCron:
		return float64(bits.OnesCount64(a.minutes)*bits.OnesCount32(a.hours)) * float64(bits.OnesCount8(a.dows)) / 7
	case schedInterval:
		return float64(dayMS) / float64(a.every)
	case schedPoisson:
		return a.perHour * 24 * f.profMean[a.prof]
	case schedRandom:
		return float64(a.perDay)
	}
	return 0
}

// plannedJob is one job placed in a day: its activity, when it starts, and
// the seed its shape and details are drawn from.
type plannedJob struct {
	act     *activity
	nominal int64 // the start the shape sees
	start   int64 // the start after fitting the job into its day
	seed    uint64
	label   int32
	end     int64 // steps at or after end fall outside the day and are dropped
}

// keep reports whether a step of the job is inside its day.
func (j *plannedJob) keep(st *step) bool { return j.start+st.off < j.end }

// planDay places an entity's jobs of one day and expands each into its
// steps, handing each job to visit with its steps (valid during the call).
// The count stream, the event stream and the labels all see the same jobs,
// because every draw here comes from streams keyed by entity, day and job.
func (f *Fleet) planDay(e *entity, day int, sc *shaper, visit func(j *plannedJob, steps []step)) {
	ds := f.start + int64(day)*dayMS
	de := ds + dayMS
	r := newRNG(e.key, uint64(day)<<8|0x11)
	var j plannedJob
	place := func(a *activity, nominal int64, seed uint64, label int) {
		j = plannedJob{act: a, nominal: nominal, seed: seed, label: int32(label), end: de}
		sc.reset(a, nominal, seed, false)
		a.shape(sc)
		if len(sc.steps) == 0 {
			return
		}
		last := int64(0)
		for _, s := range sc.steps {
			last = max(last, s.off)
		}
		start := nominal
		if start+last >= de {
			start = max(ds, de-1-last)
		}
		j.start = start
		visit(&j, sc.steps)
	}
	add := func(a *activity, nominal int64) {
		if nominal < ds || nominal >= de || (a.from != 0 && nominal < a.from) || (a.to != 0 && nominal >= a.to) {
			return
		}
		seed := r.u64()
		place(a, nominal, seed, a.label)
		if a.noDup || a.label >= 0 {
			return
		}
		for i := range e.mods {
			m := &e.mods[i]
			fac := m.factor(nominal)
			if fac <= 1 {
				continue
			}
			extra := int(fac - 1)
			if r.chance(fac - 1 - float64(extra)) {
				extra++
			}
			for k := 0; k < extra; k++ {
				t := nominal + int64(r.between(-300_000, 300_000))
				t = min(max(t, ds), de-1)
				place(a, t, r.u64(), m.label)
			}
		}
	}
	for _, a := range e.acts {
		switch a.sched {
		case schedCron:
			for mid := floorDiv(ds, dayMS) * dayMS; mid < de; mid += dayMS {
				dow := mod(mid/dayMS+4, 7)
				if a.dows&(1<<uint(dow)) == 0 {
					continue
				}
				for hs := a.hours; hs != 0; hs &= hs - 1 {
					h := int64(bits.TrailingZeros32(hs))
					for ms := a.minutes; ms != 0; ms &= ms - 1 {
						m := int64(bits.TrailingZeros64(ms))
						t := mid + h*hourMS + m*minuteMS
						if t >= ds && t < de {
							add(a, t+int64(r.intn(int(a.jitter)+1)))
						}
					}
				}
			}
		case schedInterval:
			k := floorDiv(ds-a.phase, a.every)
			for t := a.phase + k*a.every; t < de; t += a.every {
				if t < ds {
					continue
				}
				add(a, t+int64(r.intn(int(a.jitter)+1)))
			}
		case schedPoisson:
			peak := a.perHour
			if a.variable {
				peak *= e.scale
			}
			if peak <= 0 {
				continue
			}
			mean := float64(hourMS) / peak
			for t := float64(ds); ; {
				t += r.exp(mean)
				if t >= float64(de) {
					break
				}
				if r.float() < f.profileAt(a.prof, int64(t)) {
					add(a, int64(t))
				}
			}
		case schedRandom:
			for i := 0; i < a.perDay; i++ {
				add(a, ds+int64(r.intn(int(dayMS))))
			}
		case schedOnce:
			add(a, a.at)
		}
	}
}
