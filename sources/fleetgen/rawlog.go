package fleetgen

import (
	"strconv"
	"strings"
)

// appendRaw appends the audit.log records of one event: SYSCALL, then
// EXECVE, CWD, PATH items (or SOCKADDR) and PROCTITLE, all with the event's
// timestamp and serial, as auditd writes them.
func (x *encoder) appendRaw(b []byte, r *record, node bool, enriched bool) []byte {
	var hdr []byte
	hdr = append(hdr, "msg=audit("...)
	hdr = strconv.AppendInt(hdr, r.t/1000, 10)
	hdr = append(hdr, '.')
	hdr = appendPad(hdr, int(r.t%1000), 3)
	hdr = append(hdr, ':')
	hdr = strconv.AppendUint(hdr, uint64(r.seq), 10)
	hdr = append(hdr, "): "...)
	start := func(typ string) {
		if node {
			b = append(b, "node="...)
			b = append(b, r.e.host.name...)
			b = append(b, ' ')
		}
		b = append(b, "type="...)
		b = append(b, typ...)
		b = append(b, ' ')
		b = append(b, hdr...)
	}

	items := 0
	r.pathItems(func(string, string, string) { items++ })
	start("SYSCALL")
	b = append(b, "arch=c000003e syscall="...)
	b = strconv.AppendInt(b, int64(r.syscall), 10)
	if r.success {
		b = append(b, " success=yes exit="...)
	} else {
		b = append(b, " success=no exit="...)
	}
	b = strconv.AppendInt(b, r.exit, 10)
	for i, k := range []string{" a0=", " a1=", " a2=", " a3="} {
		b = append(b, k...)
		b = appendHex(b, r.regs[i])
	}
	b = append(b, " items="...)
	b = strconv.AppendInt(b, int64(items), 10)
	b = append(b, " ppid="...)
	b = strconv.AppendInt(b, r.ppid, 10)
	b = append(b, " pid="...)
	b = strconv.AppendInt(b, r.pid, 10)
	ids := [...]struct {
		k string
		v uint32
	}{{" auid=", r.auid}, {" uid=", r.uid}, {" gid=", r.gid}, {" euid=", r.euid}, {" suid=", r.euid},
		{" fsuid=", r.euid}, {" egid=", r.gid}, {" sgid=", r.gid}, {" fsgid=", r.gid}}
	for _, id := range ids {
		b = append(b, id.k...)
		b = strconv.AppendUint(b, uint64(id.v), 10)
	}
	b = append(b, " tty="...)
	b = append(b, r.tty...)
	b = append(b, " ses="...)
	b = strconv.AppendUint(b, uint64(r.ses), 10)
	b = append(b, " comm="...)
	b = appendAuditValue(b, r.comm)
	b = append(b, " exe="...)
	b = appendAuditValue(b, r.exe)
	b = append(b, ` subj=unconfined key="exec"`...)
	if enriched {
		b = append(b, 0x1d)
		b = append(b, "ARCH=x86_64 SYSCALL="...)
		b = append(b, r.syscallName()...)
		names := [...]struct {
			k string
			v uint32
		}{{" AUID=", r.auid}, {" UID=", r.uid}, {" GID=", r.gid}, {" EUID=", r.euid}, {" SUID=", r.euid},
			{" FSUID=", r.euid}, {" EGID=", r.gid}, {" SGID=", r.gid}, {" FSGID=", r.gid}}
		for i, n := range names {
			b = append(b, n.k...)
			b = append(b, '"')
			switch {
			case n.v == unsetID:
				b = append(b, "unset"...)
			case i == 2 || i >= 6:
				b = append(b, orID(x.groupName(n.v), n.v)...)
			default:
				b = append(b, orID(x.f.userName(n.v), n.v)...)
			}
			b = append(b, '"')
		}
	}
	b = append(b, '\n')

	if r.kind == recExec && r.success {
		start("EXECVE")
		b = append(b, "argc="...)
		b = strconv.AppendInt(b, int64(len(r.args)), 10)
		for i, a := range r.args {
			b = append(b, " a"...)
			b = strconv.AppendInt(b, int64(i), 10)
			b = append(b, '=')
			b = appendAuditValue(b, a)
		}
		b = append(b, '\n')
	}
	if r.kind != recConnect {
		start("CWD")
		b = append(b, "cwd="...)
		b = appendAuditValue(b, r.cwd)
		b = append(b, '\n')
	} else {
		start("SOCKADDR")
		b = append(b, "saddr=02"...)
		b = append(b, upperHex[0], upperHex[0])
		b = append(b, upperHex[r.port>>12&0xf], upperHex[r.port>>8&0xf], upperHex[r.port>>4&0xf], upperHex[r.port&0xf])
		for _, o := range r.addr {
			b = append(b, upperHex[o>>4], upperHex[o&0xf])
		}
		b = append(b, "0000000000000000"...)
		b = append(b, '\n')
	}
	item := 0
	r.pathItems(func(name, mode, nametype string) {
		start("PATH")
		b = append(b, "item="...)
		b = strconv.AppendInt(b, int64(item), 10)
		b = append(b, " name="...)
		b = appendAuditValue(b, name)
		if mode != "" {
			b = append(b, " inode="...)
			b = append(b, inode(r.e, name)...)
			b = append(b, " dev="...)
			b = append(b, r.e.device...)
			b = append(b, " mode="...)
			b = append(b, mode...)
			b = append(b, " ouid=0 ogid=0 rdev=00:00"...)
		}
		b = append(b, " nametype="...)
		b = append(b, nametype...)
		b = append(b, " cap_fp=0 cap_fi=0 cap_fe=0 cap_fver=0 cap_frootid=0"...)
		if enriched && mode != "" {
			b = append(b, 0x1d)
			b = append(b, `OUID="root" OGID="root"`...)
		}
		b = append(b, '\n')
		item++
	})
	start("PROCTITLE")
	b = append(b, "proctitle="...)
	b = appendAuditValue(b, proctitle(r.title))
	return append(b, '\n')
}

// proctitle is the process's command line as the kernel reads it: arguments
// separated by NUL bytes, at most 128 bytes.
func proctitle(args []string) string {
	s := strings.Join(args, "\x00")
	if len(s) > 128 {
		s = s[:128]
	}
	return s
}
