package model

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestSuppressibleExecutable(t *testing.T) {
	exes := func(vs ...string) []Influencer {
		return []Influencer{{Field: "host.name", Values: []string{"web-02"}}, {Field: "process.executable", Values: vs}}
	}
	tests := []struct {
		a    Anomaly
		want string
		ok   bool
	}{
		{Anomaly{Executable: "/usr/bin/nc", Influencers: exes("/usr/bin/nc")}, "/usr/bin/nc", true},
		{Anomaly{Influencers: exes("/usr/bin/rsync")}, "/usr/bin/rsync", true},
		{Anomaly{Influencers: exes("/usr/bin/ssh", "/usr/bin/scp")}, "", false},
		{Anomaly{Influencers: []Influencer{{Field: "host.name", Values: []string{"web-02"}}}}, "", false},
	}
	for i, tt := range tests {
		got, ok := SuppressibleExecutable(tt.a)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%d: %q %v, want %q %v", i, got, ok, tt.want, tt.ok)
		}
	}
}

func TestRuleWhereAndActive(t *testing.T) {
	now := time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		r      Rule
		where  string
		active bool
	}{
		{Rule{Scope: "host"}, "every host", true},
		{Rule{Scope: "container", Entity: "api-*", Until: now.Add(time.Hour)}, "containers matching api-*", true},
		{Rule{Scope: RuleScopeAny, Until: now}, "every host and container", false},
		{Rule{Scope: RuleScopeAny, Entity: "nyc2-*", Until: now.Add(-time.Hour)}, "hosts and containers matching nyc2-*", false},
	}
	for _, tt := range tests {
		if got := tt.r.Where(); got != tt.where {
			t.Errorf("Where(%+v) = %q, want %q", tt.r, got, tt.where)
		}
		if got := tt.r.Active(now); got != tt.active {
			t.Errorf("Active(%+v) = %v", tt.r, got)
		}
	}
}

type plainBackend struct{}

func (plainBackend) Swimlane(context.Context, Query, func(Progress)) (Swimlane, error) {
	return Swimlane{}, nil
}
func (plainBackend) Anomalies(context.Context, AnomalyQuery) ([]Anomaly, error) { return nil, nil }
func (plainBackend) SetTriage(context.Context, string, Triage) (Triage, error)  { return Triage{}, nil }
func (plainBackend) Run(context.Context, Query, func(Progress)) error           { return nil }

func TestCasesDiscovery(t *testing.T) {
	if _, err := Cases(plainBackend{}); !errors.Is(err, ErrNoCases) {
		t.Errorf("a backend without a case side: %v", err)
	}
}

func TestReadOnlyError(t *testing.T) {
	inner := errors.New("opened read-only")
	var err error = &ReadOnlyError{Advice: "reopen it with --edit", Err: inner}
	wrapped := fmt.Errorf("triage of x: %w", err)
	var ro *ReadOnlyError
	if !errors.As(wrapped, &ro) || ro.Error() != "reopen it with --edit" || !errors.Is(wrapped, inner) {
		t.Errorf("ReadOnlyError through a wrap: %v", wrapped)
	}
}
