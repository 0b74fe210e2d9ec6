package model

import (
	"fmt"
	"strings"
)

// TriageState is where an anomaly stands in the analyst's review.
type TriageState int

const (
	StateNew           TriageState = iota // not looked at yet
	StateAcknowledged                     // seen, being handled
	StateFalsePositive                    // seen, nothing wrong
	StateEscalated                        // seen, needs action
)

// TriageStates lists the states in the order the console cycles them.
func TriageStates() []TriageState {
	return []TriageState{StateNew, StateAcknowledged, StateFalsePositive, StateEscalated}
}

func (s TriageState) String() string {
	switch s {
	case StateAcknowledged:
		return "acknowledged"
	case StateFalsePositive:
		return "false-positive"
	case StateEscalated:
		return "escalated"
	}
	return "new"
}

// Short is the state's word in the narrow table column.
func (s TriageState) Short() string {
	switch s {
	case StateAcknowledged:
		return "ack"
	case StateFalsePositive:
		return "fp"
	case StateEscalated:
		return "esc"
	}
	return "new"
}

// Dismissed reports whether the analyst has put the anomaly aside.
func (s TriageState) Dismissed() bool {
	return s == StateAcknowledged || s == StateFalsePositive
}

// ParseTriageState reads a state as typed on the command line; it accepts the
// full names, the short ones and "fp".
func ParseTriageState(s string) (TriageState, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	for _, st := range TriageStates() {
		if s == st.String() || s == st.Short() {
			return st, nil
		}
	}
	switch s {
	case "false_positive", "falsepositive":
		return StateFalsePositive, nil
	case "acked":
		return StateAcknowledged, nil
	}
	return 0, fmt.Errorf("triage state %q: want new, acknowledged, false-positive or escalated", s)
}

// StateSet is a set of triage states, one bit per state: which states the
// anomalies of one swimlane cell are in.
type StateSet uint8

// Of makes the set holding the given states.
func Of(states ...TriageState) StateSet {
	var s StateSet
	for _, st := range states {
		s = s.With(st)
	}
	return s
}

// With returns the set plus st.
func (s StateSet) With(st TriageState) StateSet { return s | 1<<uint(st) }

// Has reports whether st is in the set.
func (s StateSet) Has(st TriageState) bool { return s&(1<<uint(st)) != 0 }

// Empty reports whether the set holds nothing.
func (s StateSet) Empty() bool { return s == 0 }

// AllDismissed reports whether every anomaly behind the set has been put
// aside: acknowledged or false positive, none new or escalated.
func (s StateSet) AllDismissed() bool {
	return !s.Empty() && !s.Has(StateNew) && !s.Has(StateEscalated)
}
