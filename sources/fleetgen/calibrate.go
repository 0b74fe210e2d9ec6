package fleetgen

import "time"

// calibrate sets each entity's scale so that its mean executions per day
// meet its target: fixed schedules stay as they are, and the variable
// activities (users, traffic) make up the rest.
func (f *Fleet) calibrate() {
	type key struct {
		act  string
		role Role
		img  image
	}
	meanSteps := map[key]float64{}
	var sc shaper
	sc.f = f
	for _, e := range f.all {
		sc.e = e
		fixed, variable := 0.0, 0.0
		for _, a := range e.acts {
			if a.label >= 0 {
				continue
			}
			k := key{a.key, e.role, e.img}
			m, ok := meanSteps[k]
			if !ok {
				const samples = 48
				n := 0
				for i := 0; i < samples; i++ {
					// Spread the samples over a week of working and quiet hours.
					at := f.start + int64(i)*(7*dayMS/samples) + int64(i%5)*11*minuteMS
					sc.reset(a, at, mix(uint64(i)+0xca1), false)
					a.shape(&sc)
					n += len(sc.steps)
				}
				m = float64(n) / samples
				meanSteps[k] = m
			}
			v := f.jobsPerDay(a) * m
			if a.variable {
				variable += v
			} else {
				fixed += v
			}
		}
		e.scale = 1
		if variable > 0 {
			e.scale = min(4, max(0.05, (e.target-fixed)/variable))
		}
	}
}

// measureLabels fills each label's window and event count from the jobs the
// generator will really produce.
func (f *Fleet) measureLabels() {
	type acc struct {
		n          int
		first, end int64
	}
	accs := make([]acc, len(f.labels))
	for i := range accs {
		accs[i].first = -1
	}
	var sc shaper
	sc.f = f
	done := map[*entity]bool{}
	for _, l := range f.labels {
		e := f.byName[l.Entity]
		if done[e] {
			continue
		}
		done[e] = true
		sc.e = e
		for d := 0; d < f.cfg.Days; d++ {
			f.planDay(e, d, &sc, func(j *plannedJob, steps []step) {
				if j.label < 0 {
					return
				}
				a := &accs[j.label]
				for k := range steps {
					if !j.keep(&steps[k]) {
						continue
					}
					t := j.start + steps[k].off
					a.n++
					if a.first < 0 || t < a.first {
						a.first = t
					}
					a.end = max(a.end, t)
				}
			})
		}
	}
	for i := range f.labels {
		l := &f.labels[i]
		l.Events = accs[i].n
		if l.Kind == KindNightRise {
			continue // its window is the rise, set when placed
		}
		if accs[i].first >= 0 {
			l.Start = time.UnixMilli(accs[i].first).UTC()
			l.End = time.UnixMilli(accs[i].end).UTC()
		}
	}
}
