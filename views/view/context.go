package view

import (
	"time"

	"github.com/auditlens/auditlens/views/model"
)

// Context is what every screen shares, set up once by the shell (gh-dash's
// program context): the theme, the display time zone, the jobs, the current
// query and the selected time. Only the shell writes it.
type Context struct {
	Theme    *Theme
	Location *time.Location // display zone; never nil once built by the shell
	Jobs     []model.Job
	Query    model.Query
	// Focus is the selected time that survives a drill-down and the way back.
	Focus time.Time
	Now   func() time.Time
	// Cases says the backend keeps cases and suppression rules
	// (model.Cases): the screens offer their keys.
	Cases bool
	// CaseFile is the saved case file the console runs on; its Name is
	// empty when it runs on a cache.
	CaseFile model.CaseFile
	// ReadOnly, when set, is the backend's refusal of every change (a case
	// file opened without --edit); screens show it instead of opening a
	// form whose answer would be refused.
	ReadOnly error
}

// Job returns the current job, and false when the query names an unknown one.
func (c *Context) Job() (model.Job, bool) { return model.FindJob(c.Jobs, c.Query.Job) }

// ZoneName is the display zone as the status bar shows it: the IANA name, or
// the abbreviation for the machine's local zone.
func (c *Context) ZoneName() string {
	return ZoneName(c.Location, c.now())
}

func (c *Context) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// ZoneName names loc for the status bar; "Local" becomes its abbreviation at
// t (e.g. CET), since "Local" tells a remote reader nothing.
func ZoneName(loc *time.Location, t time.Time) string {
	if loc == nil {
		return "UTC"
	}
	if name := loc.String(); name != "Local" {
		return name
	}
	abbr, _ := t.In(loc).Zone()
	return abbr
}
