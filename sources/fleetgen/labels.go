package fleetgen

import (
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// Label describes one injected thing: an anomaly a detector should find, or
// a benign but notable event it should not flag as major.
type Label struct {
	ID       string `json:"id"`
	Kind     Kind   `json:"kind"`
	Anomaly  bool   `json:"anomaly"`
	Detector string `json:"detector,omitempty"` // "rare" or "rate"; empty for benign labels
	Scope    string `json:"scope"`              // "host" or "container"
	Entity   string `json:"entity"`             // host name, or container name
	Host     string `json:"host"`               // the host the entity runs on
	// Executables are the ones the detector should point at; empty when the
	// entity's normal executables rise together.
	Executables []string  `json:"executables,omitempty"`
	Start       time.Time `json:"start"` // first added execution
	End         time.Time `json:"end"`   // last added execution (for a rise: its window)
	Events      int       `json:"events"`
	Description string    `json:"description"`
}

// NoiseLabel describes the non-execution events mixed into the output.
type NoiseLabel struct {
	Fraction float64  `json:"fraction"`
	Syscalls []string `json:"syscalls"`
	Actions  []string `json:"actions"`
	Note     string   `json:"note"`
}

// Labels is the answer key of a generated fleet.
type Labels struct {
	Generator  string     `json:"generator"`
	Seed       int64      `json:"seed"`
	Start      time.Time  `json:"start"`
	End        time.Time  `json:"end"`
	Scenario   []Kind     `json:"scenario"`
	Hosts      int        `json:"hosts"`
	Containers int        `json:"containers"`
	Labels     []Label    `json:"labels"`
	Noise      NoiseLabel `json:"noise"`
	// Totals are filled by WriteAll from what it wrote.
	Totals *Totals `json:"totals,omitempty"`
}

// Totals counts what a run of the generator produced.
type Totals struct {
	Events     int64 `json:"events"`     // all events, noise included
	Executions int64 `json:"executions"` // process executions
	Noise      int64 `json:"noise"`
	HostEvents int64 `json:"host_events"`
}

// Anomalies returns the labels a detector should flag.
func (l Labels) Anomalies() []Label {
	var out []Label
	for _, x := range l.Labels {
		if x.Anomaly {
			out = append(out, x)
		}
	}
	return out
}

// Labels returns the fleet's answer key.
func (f *Fleet) Labels() Labels {
	out := Labels{
		Generator:  "auditlens fleetgen",
		Seed:       f.cfg.Seed,
		Start:      f.Start(),
		End:        f.End(),
		Scenario:   f.Scenario(),
		Hosts:      len(f.hosts),
		Containers: len(f.conts),
		Labels:     append([]Label(nil), f.labels...),
		Noise: NoiseLabel{
			Fraction: f.cfg.NoiseFraction,
			Syscalls: []string{"openat", "connect"},
			Actions:  []string{"opened-file", "connected-to"},
			Note:     "events that are not process executions; readers that count executions must skip them (raw logs hold only host events)",
		},
	}
	for i := range out.Labels {
		out.Labels[i].Executables = append([]string(nil), out.Labels[i].Executables...)
	}
	return out
}

// WriteLabels writes labels as indented JSON.
func WriteLabels(w io.Writer, l Labels) error {
	b, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return fmt.Errorf("encode labels: %w", err)
	}
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write labels: %w", err)
	}
	return nil
}

// ReadLabels reads a labels file written by WriteLabels.
func ReadLabels(r io.Reader) (Labels, error) {
	var l Labels
	if err := json.NewDecoder(r).Decode(&l); err != nil {
		return Labels{}, fmt.Errorf("decode labels: %w", err)
	}
	return l, nil
}
