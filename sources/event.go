// Package sources turns stores of audit data (Auditbeat NDJSON files, raw
// audit.log files, Elasticsearch) into a stream of normalized process events.
package sources

import "time"

// Scope says whether an event belongs to a host's own processes or to a
// container's. Host jobs take events with no container; docker jobs take only
// container events.
type Scope string

const (
	ScopeHost      Scope = "host"
	ScopeContainer Scope = "container"
)

// Container identifies the container a process ran in, when it ran in one.
type Container struct {
	ID      string
	Name    string
	Runtime string
}

// User is who ran the process: the effective user and the login (audit) user
// that stays fixed across su and sudo.
type User struct {
	Name      string
	ID        string
	AuditName string
	AuditID   string
}

// Origin says where an event came from, so an analyst can go back to the raw
// record: a file and line, or an Elasticsearch index and document id.
type Origin struct {
	File  string
	Line  int64
	Index string
	ID    string
}

// Event is one normalized audit event about a process. Every string in it is
// attacker-controlled data and must be sanitized before it reaches a terminal.
type Event struct {
	Time       time.Time
	Host       string
	Container  Container
	Executable string
	Name       string // process name (comm)
	Args       []string
	Title      string // process title (proctitle)
	User       User
	PID        int64
	PPID       int64
	WorkingDir string
	Result     string // "success" or "fail", empty when unknown
	Syscall    string // "execve", "execveat", ... empty when unknown
	Action     string // Auditbeat's event.action, e.g. "executed"
	Origin     Origin
}

// IsExecution reports whether the event is a process execution, which is what
// the detectors count by default.
func (e *Event) IsExecution() bool {
	switch e.Syscall {
	case "execve", "execveat":
		return true
	}
	return e.Action == "executed"
}

// Scope reports whether the event counts for its host or for its container.
func (e *Event) Scope() Scope {
	if e.Container.ID != "" || e.Container.Name != "" || e.Container.Runtime != "" {
		return ScopeContainer
	}
	return ScopeHost
}

// Entity is the partition value the event counts for: the host name for host
// events, the container name (else its id) for container events.
func (e *Event) Entity() string {
	if e.Scope() == ScopeContainer {
		if e.Container.Name != "" {
			return e.Container.Name
		}
		return e.Container.ID
	}
	return e.Host
}

// Selection says which events a source yields.
type Selection int

const (
	// Executions yields process executions only (execve/execveat), the default.
	Executions Selection = iota
	// AllSyscalls yields every event that carries a syscall, for parity with
	// Elastic's jobs, which count them all.
	AllSyscalls
)
