package explorer

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/auditlens/auditlens/internal/safe"
	"github.com/auditlens/auditlens/views/internal/listing"
	"github.com/auditlens/auditlens/views/model"
	"github.com/auditlens/auditlens/views/view"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"
)

// ProcessRecord is an execution in the JSON shape of Auditbeat's ECS
// fields, which analysts and their scripts know, for y.
type ProcessRecord struct {
	Timestamp   string   `json:"@timestamp"`
	Host        string   `json:"host.name,omitempty"`
	Container   string   `json:"container.name,omitempty"`
	ContainerID string   `json:"container.id,omitempty"`
	Executable  string   `json:"process.executable"`
	Name        string   `json:"process.name,omitempty"`
	Args        []string `json:"process.args"`
	Title       string   `json:"process.title,omitempty"`
	PID         int64    `json:"process.pid"`
	PPID        int64    `json:"process.parent.pid"`
	WorkingDir  string   `json:"process.working_directory,omitempty"`
	User        string   `json:"user.name,omitempty"`
	UserID      string   `json:"user.id,omitempty"`
	AuditUser   string   `json:"user.audit.name,omitempty"`
	AuditUserID string   `json:"user.audit.id,omitempty"`
	Outcome     string   `json:"event.outcome,omitempty"`
	Action      string   `json:"event.action,omitempty"`
	Syscall     string   `json:"auditd.data.syscall,omitempty"`
	Origin      string   `json:"auditlens_origin,omitempty"`
}

// Record returns p in ECS shape.
func Record(p model.Process) ProcessRecord {
	args := p.Args
	if args == nil {
		args = []string{}
	}
	return ProcessRecord{
		Timestamp: p.Time.UTC().Format(time.RFC3339Nano), Host: p.Host, Container: p.Container, ContainerID: p.ContainerID,
		Executable: p.Executable, Name: p.Name, Args: args, Title: p.Title, PID: p.PID, PPID: p.PPID,
		WorkingDir: p.WorkingDir, User: p.User, UserID: p.UserID, AuditUser: p.AuditUser, AuditUserID: p.AuditUserID,
		Outcome: p.Result, Action: p.Action, Syscall: p.Syscall, Origin: p.Origin.String(),
	}
}

// detailLabel is the width of the field names' column.
const detailLabel = 12

// DetailLines describes one execution in lines of at most w cells: every
// field, the arguments one per line and wrapped in full. Every string from
// the data goes through safe.Text.
func DetailLines(p model.Process, w int, th *view.Theme, loc *time.Location) []string {
	if w <= 0 {
		return nil
	}
	if loc == nil {
		loc = time.UTC
	}
	var out []string
	field := func(label, value string) {
		if value == "" {
			return
		}
		valueW := w - detailLabel
		if valueW < 8 {
			out = append(out, th.Dim.Apply(view.Truncate(label, w)))
			out = append(out, view.Wrap(value, w)...)
			return
		}
		for i, l := range view.Wrap(value, valueW) {
			lab := ""
			if i == 0 {
				lab = label
			}
			out = append(out, th.Dim.Apply(view.Fit(lab, detailLabel))+l)
		}
	}
	out = append(out, view.Truncate(th.Header.Apply(safe.Text(p.Executable)), w))
	field("time", p.Time.In(loc).Format("2006-01-02 15:04:05.000000")+" "+view.ZoneName(loc, p.Time))
	field("host", safe.Text(p.Host))
	if p.Container != "" || p.ContainerID != "" {
		field("container", strings.TrimSpace(safe.Text(p.Container)+" "+idText(p.ContainerID)))
	}
	field("pid", strconv.FormatInt(p.PID, 10))
	field("ppid", strconv.FormatInt(p.PPID, 10))
	field("name", safe.Text(p.Name))
	field("user", userText(p.User, p.UserID))
	field("audit user", userText(p.AuditUser, p.AuditUserID))
	field("cwd", safe.Text(p.WorkingDir))
	field("result", safe.Text(p.Result))
	field("syscall", safe.Text(p.Syscall))
	field("action", safe.Text(p.Action))
	field("title", safe.Text(p.Title))
	field("origin", safe.Text(p.Origin.String()))
	if len(p.Args) == 0 {
		field("args", "(none)")
	}
	for i, a := range p.Args {
		field(fmt.Sprintf("argv[%d]", i), safe.Text(a))
	}
	for i, l := range out {
		out[i] = view.Truncate(l, w)
	}
	return out
}

func userText(name, id string) string {
	name, id = safe.Text(name), safe.Text(id)
	switch {
	case name != "" && id != "":
		return name + " (" + id + ")"
	case id != "":
		return "uid " + id
	}
	return name
}

func idText(id string) string {
	if id == "" {
		return ""
	}
	return "(" + safe.Text(id) + ")"
}

// Detail is the screen of one execution.
type Detail struct {
	ctx           *view.Context
	target        Target
	p             model.Process
	keys          detailKeys
	width, height int
	top           int
}

// NewDetail returns the screen of p, an execution listed by an explorer of
// t (whose host or container its parent and children are looked up on).
func NewDetail(ctx *view.Context, t Target, p model.Process) *Detail {
	return &Detail{ctx: ctx, target: t, p: p, keys: newDetailKeys()}
}

type detailKeys struct {
	listing.MoveKeys
	Parent, Children key.Binding
}

func newDetailKeys() detailKeys {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return detailKeys{
		MoveKeys: listing.MoveKeys{
			Down:     b([]string{"j", "down"}, "j/↓", "scroll down"),
			Up:       b([]string{"k", "up"}, "k/↑", "scroll up"),
			Top:      b([]string{"g", "home"}, "g", "top"),
			Bottom:   b([]string{"G", "end"}, "G", "bottom"),
			PageDown: b([]string{"ctrl+d", "pgdown"}, "ctrl+d", "half page down"),
			PageUp:   b([]string{"ctrl+u", "pgup"}, "ctrl+u", "half page up"),
		},
		Parent:   b([]string{"P"}, "P", "parent"),
		Children: b([]string{"C"}, "C", "children"),
	}
}

func (k detailKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Down, k.Up, k.Parent, k.Children}
}
func (k detailKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Down, k.Up, k.Top, k.Bottom, k.PageDown, k.PageUp}, {k.Parent, k.Children}}
}

// Init implements view.View.
func (d *Detail) Init() tea.Cmd { return nil }

// Title implements view.View.
func (d *Detail) Title() string { return fmt.Sprintf("pid %d", d.p.PID) }

// KeyMap implements view.View.
func (d *Detail) KeyMap() help.KeyMap { return d.keys }

// FocusTime implements view.Focuser.
func (d *Detail) FocusTime() (time.Time, bool) { return d.p.Time, true }

// Yank implements view.Yanker.
func (d *Detail) Yank() (string, string, bool) {
	text, err := view.YankJSON(Record(d.p))
	if err != nil {
		return "", "", false
	}
	return text, "process", true
}

// SetSize implements view.View.
func (d *Detail) SetSize(w, h int) {
	d.width, d.height = w, h
	d.clamp()
}

func (d *Detail) lines() []string { return DetailLines(d.p, d.width, d.ctx.Theme, d.ctx.Location) }

func (d *Detail) clamp() {
	d.top = min(d.top, len(d.lines())-d.height)
	d.top = max(d.top, 0)
}

// Update implements view.View.
func (d *Detail) Update(msg tea.Msg) (view.View, tea.Cmd) {
	switch msg := msg.(type) {
	case parentMsg:
		return d, openParentDetail(d.ctx, d.target, msg.child, msg.page)
	case tea.KeyMsg:
		half := max(d.height/2, 1)
		top, moved := listing.ScrollText(msg, d.keys.MoveKeys, d.top, half, len(d.lines()))
		switch {
		case moved:
			d.top = top
		case key.Matches(msg, d.keys.Parent):
			if d.p.PPID <= 0 {
				return d, view.Notice(fmt.Sprintf("pid %d has no parent in the data", d.p.PID))
			}
			return d, FetchParent(d.target, d.p)
		case key.Matches(msg, d.keys.Children):
			return d, view.Push(New(d.ctx, ChildrenOf(d.target, d.p)))
		}
		d.clamp()
	}
	return d, nil
}

// openParentDetail opens the parent's own detail screen, so P can be
// pressed again to walk up the process tree.
func openParentDetail(ctx *view.Context, t Target, child model.Process, page model.ProcessPage) tea.Cmd {
	if len(page.Rows) == 0 {
		return openParent(ctx, t, child, page) // says there is none
	}
	return view.Push(NewDetail(ctx, t, page.Rows[0]))
}

// View implements view.View.
func (d *Detail) View() string {
	if d.width <= 0 || d.height <= 0 {
		return ""
	}
	lines := d.lines()
	if d.top < len(lines) {
		lines = lines[d.top:]
	}
	return view.Frame(strings.Join(lines, "\n"), d.width, d.height)
}
