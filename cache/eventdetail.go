package cache

import (
	"encoding/binary"
	"errors"

	"github.com/auditlens/auditlens/sources"
)

// An event's fields that no query filters on are packed into one BLOB
// column: binding one value instead of seventeen through cgo is most of the
// cost of storing an event. The layout is a version byte, then each string as
// a uvarint length and its bytes, in detailFields order, then the origin line
// as a varint. To add a field, bump the version and keep reading the old one.
const detailVersion = 1

// detailFields lists the packed strings of an event, in order.
func detailFields(ev *sources.Event, originFile *string) []*string {
	return []*string{
		&ev.Name, &ev.Title,
		&ev.Container.ID, &ev.Container.Name, &ev.Container.Runtime,
		&ev.User.Name, &ev.User.ID, &ev.User.AuditName, &ev.User.AuditID,
		&ev.WorkingDir, &ev.Result, &ev.Syscall, &ev.Action,
		originFile, &ev.Origin.Index, &ev.Origin.ID,
	}
}

// packDetail appends ev's packed fields to b. originFile is "" when the
// event's file is its load's path, which is then not repeated per event.
func packDetail(b []byte, ev *sources.Event, originFile string) []byte {
	b = append(b, detailVersion)
	for _, s := range detailFields(ev, &originFile) {
		b = binary.AppendUvarint(b, uint64(len(*s)))
		b = append(b, *s...)
	}
	return binary.AppendVarint(b, ev.Origin.Line)
}

var errBadDetail = errors.New("damaged event detail")

// unpackDetail fills ev's packed fields from b and returns the origin file
// ("" when it is the load's path).
func unpackDetail(b []byte, ev *sources.Event) (originFile string, err error) {
	if len(b) == 0 || b[0] != detailVersion {
		return "", errBadDetail
	}
	b = b[1:]
	for _, s := range detailFields(ev, &originFile) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return "", errBadDetail
		}
		*s = string(b[k : k+int(n)])
		b = b[k+int(n):]
	}
	line, k := binary.Varint(b)
	if k <= 0 || k != len(b) {
		return "", errBadDetail
	}
	ev.Origin.Line = line
	return originFile, nil
}
