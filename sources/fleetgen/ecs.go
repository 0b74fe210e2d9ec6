package fleetgen

import (
	"strconv"

	"github.com/auditlens/auditlens/sources"
)

const (
	beatVersion8 = "8.12.2"
	beatVersion6 = "6.8.23"
)

// encoder turns records into documents; it caches each entity's constant
// parts. One per writer goroutine.
type encoder struct {
	f      *Fleet
	ecsPre map[*entity][]byte
	v6Pre  map[*entity][]byte
	buf    []byte
}

func newEncoder(f *Fleet) *encoder {
	return &encoder{f: f, ecsPre: map[*entity][]byte{}, v6Pre: map[*entity][]byte{}}
}

// inode is a stable inode number for a file on an entity's disk.
func inode(e *entity, p string) string {
	return strconv.FormatUint(uint64(1000+mix(e.key^strKey(p))%3_000_000), 10)
}

func (x *encoder) groupName(gid uint32) string {
	for _, u := range x.f.users {
		if u.gid == gid {
			return u.name
		}
	}
	return ""
}

// ecsPrefix is the part of an ECS document that only depends on the host:
// agent, ecs, host, service and, for containers, container.
func (x *encoder) ecsPrefix(e *entity) []byte {
	if b, ok := x.ecsPre[e]; ok {
		return b
	}
	h := e.host
	var b []byte
	b = append(b, `,"@metadata":{"beat":"auditbeat","type":"_doc","version":"`+beatVersion8+`"}`...)
	b = append(b, `,"agent":{`...)
	b = appendStrField(b, "name", h.name)
	b = appendStrField(b, "hostname", h.name)
	b = appendStrField(b, "type", "auditbeat")
	b = appendStrField(b, "version", beatVersion8)
	b = appendStrField(b, "id", h.agentID)
	b = append(b, `},"ecs":{"version":"8.0.0"},"host":{`...)
	b = appendStrField(b, "name", h.name)
	b = appendStrField(b, "hostname", h.name)
	b = appendStrField(b, "id", h.hostID)
	b = appendStrArray(b, "ip", []string{h.ip})
	b = append(b, `,"os":{"name":"Ubuntu","version":"22.04.4 LTS"}},"service":{"type":"auditd"}`...)
	if e.scope == sources.ScopeContainer {
		b = append(b, `,"container":{`...)
		b = appendStrField(b, "id", e.cid)
		b = appendStrField(b, "name", e.name)
		b = appendStrField(b, "runtime", "docker")
		b = append(b, `,"image":{`...)
		b = appendStrField(b, "name", imageInfo[e.img].name)
		b = append(b, `}}`...)
	}
	x.ecsPre[e] = b
	return b
}

func (x *encoder) appendID(b []byte, key string, id uint32) []byte {
	b = appendKey(b, key)
	b = append(b, '"')
	b = strconv.AppendUint(b, uint64(id), 10)
	return append(b, '"')
}

func (x *encoder) appendIDName(b []byte, id uint32, name string) []byte {
	b = x.appendID(b, "id", id)
	if name != "" {
		b = appendStrField(b, "name", name)
	}
	return b
}

// session is how Auditbeat shows ses=: a number or "unset".
func session(ses uint32) string {
	if ses == unsetID {
		return "unset"
	}
	return strconv.FormatUint(uint64(ses), 10)
}

func (x *encoder) auditData(b []byte, r *record) []byte {
	b = append(b, `"data":{`...)
	for i, k := range []string{"a0", "a1", "a2", "a3"} {
		b = appendKey(b, k)
		b = append(b, '"')
		b = appendHex(b, r.regs[i])
		b = append(b, '"')
	}
	b = append(b, `,"arch":"x86_64"`...)
	if r.kind == recExec && r.success {
		b = appendStrField(b, "argc", strconv.Itoa(len(r.args)))
	}
	b = appendStrField(b, "exit", strconv.FormatInt(r.exit, 10))
	b = appendStrField(b, "syscall", r.syscallName())
	b = appendStrField(b, "tty", r.tty)
	return append(b, '}')
}

// pathItems are the PATH records of an event, as name and mode.
func (r *record) pathItems(fn func(name, mode, nametype string)) {
	switch {
	case r.kind == recExec && !r.success:
		fn(r.path, "", "UNKNOWN")
	case r.kind == recExec:
		mode := "0100755"
		if r.setuid {
			mode = "0104755"
		}
		fn(r.path, mode, "NORMAL")
		if r.interp != "" {
			fn(r.interp, "0100755", "NORMAL")
		}
	case r.kind == recOpen:
		fn(r.file, "0100644", "NORMAL")
	}
}

func (x *encoder) paths(b []byte, r *record) []byte {
	if r.kind == recConnect {
		return b
	}
	b = append(b, `,"paths":[`...)
	item := 0
	r.pathItems(func(name, mode, nametype string) {
		if item > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		if mode != "" {
			b = appendStrField(b, "dev", r.e.device)
			b = appendStrField(b, "inode", inode(r.e, name))
		}
		b = appendStrField(b, "item", strconv.Itoa(item))
		if mode != "" {
			b = appendStrField(b, "mode", mode)
		}
		b = appendStrField(b, "name", name)
		b = appendStrField(b, "nametype", nametype)
		if mode != "" {
			b = append(b, `,"ogid":"0","ouid":"0","rdev":"00:00"`...)
		}
		b = append(b, '}')
		item++
	})
	return append(b, ']')
}

func (x *encoder) summary(b []byte, r *record, auidName, uidName string) []byte {
	b = append(b, `,"summary":{"actor":{`...)
	if r.auid == unsetID {
		b = appendStrField(b, "primary", "unset")
	} else {
		b = appendStrField(b, "primary", orID(auidName, r.auid))
	}
	b = appendStrField(b, "secondary", orID(uidName, r.uid))
	b = append(b, `},"object":{`...)
	switch r.kind {
	case recConnect:
		b = appendStrField(b, "type", "socket")
		b = appendStrField(b, "primary", ipString(r.addr))
		b = appendStrField(b, "secondary", strconv.Itoa(int(r.port)))
	case recOpen:
		b = appendStrField(b, "type", "file")
		b = appendStrField(b, "primary", r.file)
	default:
		b = appendStrField(b, "type", "file")
		if r.success {
			b = appendStrField(b, "primary", r.exe)
		} else {
			b = appendStrField(b, "primary", r.path)
		}
	}
	b = append(b, '}')
	b = appendStrField(b, "how", r.exe)
	return append(b, '}')
}

func orID(name string, id uint32) string {
	if name != "" {
		return name
	}
	return strconv.FormatUint(uint64(id), 10)
}

func ipString(a [4]byte) string {
	b := strconv.AppendUint(nil, uint64(a[0]), 10)
	for _, x := range a[1:] {
		b = append(b, '.')
		b = strconv.AppendUint(b, uint64(x), 10)
	}
	return string(b)
}

// appendECS appends one Auditbeat 8.x document and a newline.
func (x *encoder) appendECS(b []byte, r *record) []byte {
	uidName, auidName := x.f.userName(r.uid), ""
	if r.auid != unsetID {
		auidName = x.f.userName(r.auid)
	}
	b = append(b, `{"@timestamp":"`...)
	b = appendTimestamp(b, r.t)
	b = append(b, '"')
	b = append(b, x.ecsPrefix(r.e)...)
	b = append(b, `,"event":{"kind":"event","module":"auditd",`...)
	switch r.kind {
	case recOpen:
		b = append(b, `"category":["file"],"type":["info"]`...)
	case recConnect:
		b = append(b, `"category":["network"],"type":["connection","start"]`...)
	default:
		b = append(b, `"category":["process"],"type":["start"]`...)
	}
	b = appendStrField(b, "action", r.action())
	if r.success {
		b = append(b, `,"outcome":"success"}`...)
	} else {
		b = append(b, `,"outcome":"failure"}`...)
	}
	b = append(b, `,"process":{`...)
	b = appendIntField(b, "pid", r.pid)
	b = append(b, `,"parent":{`...)
	b = appendIntField(b, "pid", r.ppid)
	b = append(b, '}')
	b = appendStrField(b, "name", r.comm)
	b = appendStrField(b, "executable", r.exe)
	if r.args != nil {
		b = appendStrArray(b, "args", r.args)
	}
	b = appendStrField(b, "title", r.titleString())
	if r.cwd != "" {
		b = appendStrField(b, "working_directory", r.cwd)
	}
	b = append(b, `},"user":{`...)
	b = x.appendIDName(b, r.uid, uidName)
	b = append(b, `,"group":{`...)
	b = x.appendIDName(b, r.gid, x.groupName(r.gid))
	b = append(b, '}')
	b = append(b, `,"audit":{`...)
	if r.auid == unsetID {
		b = append(b, `"id":"unset"`...)
	} else {
		b = x.appendIDName(b, r.auid, auidName)
	}
	b = append(b, '}')
	if r.euid != r.uid {
		b = append(b, `,"effective":{`...)
		b = x.appendIDName(b, r.euid, x.f.userName(r.euid))
		b = append(b, '}')
	}
	b = append(b, '}')
	if r.kind == recConnect {
		b = append(b, `,"destination":{`...)
		b = appendStrField(b, "ip", ipString(r.addr))
		b = appendIntField(b, "port", int64(r.port))
		b = append(b, '}')
	}
	if r.kind == recExec && r.success || r.kind == recOpen {
		p, mode := r.exe, "0755"
		if r.kind == recOpen {
			p, mode = r.file, "0644"
		} else if r.setuid {
			mode = "4755"
		}
		b = append(b, `,"file":{`...)
		b = appendStrField(b, "path", p)
		b = append(b, `,"device":"00:00"`...)
		b = appendStrField(b, "inode", inode(r.e, p))
		b = appendStrField(b, "mode", mode)
		b = append(b, `,"uid":"0","gid":"0","owner":"root","group":"root"}`...)
	}
	b = append(b, `,"auditd":{"message_type":"syscall"`...)
	b = appendIntField(b, "sequence", int64(r.seq))
	if r.success {
		b = append(b, `,"result":"success"`...)
	} else {
		b = append(b, `,"result":"fail"`...)
	}
	b = appendStrField(b, "session", session(r.ses))
	b = x.summary(b, r, auidName, uidName)
	b = append(b, ',')
	b = x.auditData(b, r)
	b = x.paths(b, r)
	b = append(b, `},"tags":["exec"]}`...)
	return append(b, '\n')
}

// append6x appends one Auditbeat 6.x document and a newline: beat.*,
// process.exe, string pids, user.name_map, docker.container.
func (x *encoder) append6x(b []byte, r *record) []byte {
	uidName := x.f.userName(r.uid)
	b = append(b, `{"@timestamp":"`...)
	b = appendTimestamp(b, r.t)
	b = append(b, '"')
	if pre, ok := x.v6Pre[r.e]; ok {
		b = append(b, pre...)
	} else {
		var p []byte
		p = append(p, `,"@metadata":{"beat":"auditbeat","type":"doc","version":"`+beatVersion6+`"},"beat":{`...)
		p = appendStrField(p, "name", r.e.host.name)
		p = appendStrField(p, "hostname", r.e.host.name)
		p = appendStrField(p, "version", beatVersion6)
		p = append(p, '}')
		if r.e.scope == sources.ScopeContainer {
			p = append(p, `,"docker":{"container":{`...)
			p = appendStrField(p, "id", r.e.cid)
			p = appendStrField(p, "name", r.e.name)
			p = appendStrField(p, "image", imageInfo[r.e.img].name)
			p = append(p, `}}`...)
		}
		x.v6Pre[r.e] = p
		b = append(b, p...)
	}
	b = append(b, `,"event":{"category":`...)
	switch r.kind {
	case recOpen:
		b = append(b, `"audit-rule","type":"syscall","action":"opened-file"`...)
	case recConnect:
		b = append(b, `"audit-rule","type":"syscall","action":"connected-to"`...)
	default:
		b = append(b, `"audit-rule","type":"syscall","action":"executed"`...)
	}
	b = append(b, `,"module":"auditd"},"user":{`...)
	if r.auid == unsetID {
		b = append(b, `"auid":"unset"`...)
	} else {
		b = x.appendID(b, "auid", r.auid)
	}
	b = x.appendID(b, "uid", r.uid)
	b = x.appendID(b, "gid", r.gid)
	b = x.appendID(b, "euid", r.euid)
	b = x.appendID(b, "suid", r.euid)
	b = x.appendID(b, "fsuid", r.euid)
	b = x.appendID(b, "egid", r.gid)
	b = x.appendID(b, "sgid", r.gid)
	b = x.appendID(b, "fsgid", r.gid)
	b = append(b, `,"name_map":{`...)
	if r.auid != unsetID {
		if n := x.f.userName(r.auid); n != "" {
			b = appendStrField(b, "auid", n)
		}
	}
	if uidName != "" {
		b = appendStrField(b, "uid", uidName)
	}
	if n := x.f.userName(r.euid); n != "" {
		b = appendStrField(b, "euid", n)
	}
	b = append(b, `}},"process":{`...)
	b = appendStrField(b, "pid", strconv.FormatInt(r.pid, 10))
	b = appendStrField(b, "ppid", strconv.FormatInt(r.ppid, 10))
	b = appendStrField(b, "title", r.titleString())
	b = appendStrField(b, "name", r.comm)
	b = appendStrField(b, "exe", r.exe)
	if r.cwd != "" {
		b = appendStrField(b, "cwd", r.cwd)
	}
	if r.args != nil {
		b = appendStrArray(b, "args", r.args)
	}
	b = append(b, `},"auditd":{`...)
	b = appendIntField(b, "sequence", int64(r.seq))
	if r.success {
		b = append(b, `,"result":"success"`...)
	} else {
		b = append(b, `,"result":"fail"`...)
	}
	b = appendStrField(b, "session", session(r.ses))
	b = append(b, ',')
	b = x.auditData(b, r)
	b = x.summary(b, r, x.f.userName(r.auid), uidName)
	b = x.paths(b, r)
	b = append(b, `},"tags":["exec"]}`...)
	return append(b, '\n')
}
