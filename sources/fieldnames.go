package sources

import (
	"context"
	"io"
)

// Meaning names what a document field tells about an event, for sources that
// query documents where they are stored (Elasticsearch) instead of reading
// them: they need the field names of the same table the NDJSON reader uses.
type Meaning uint8

const (
	MeaningTime Meaning = iota
	MeaningHost
	MeaningContainerID
	MeaningContainerName
	MeaningContainerRuntime
	MeaningExecutable
	MeaningSyscall
	MeaningAction
	MeaningCategory    // event.category, tested for "process"
	MeaningType        // event.type, tested for "start"
	MeaningModule      // event.module: "system" documents are not executions
	MeaningMessageType // auditd.message_type: only "syscall" documents are executions
)

// meaningTargets maps each meaning onto the field table's target.
var meaningTargets = [...]fieldTarget{
	MeaningTime:             targetTime,
	MeaningHost:             targetHost,
	MeaningContainerID:      targetContainerID,
	MeaningContainerName:    targetContainerName,
	MeaningContainerRuntime: targetContainerRuntime,
	MeaningExecutable:       targetExecutable,
	MeaningSyscall:          targetSyscall,
	MeaningAction:           targetAction,
	MeaningCategory:         targetCategory,
	MeaningType:             targetType,
	MeaningModule:           targetModule,
	MeaningMessageType:      targetMessageType,
}

// DocumentFields lists the document fields that fill one meaning, in the
// order the mapping prefers them (the first one a document holds wins): ECS
// names before their Auditbeat 6.x equivalents. An unknown meaning has none.
func DocumentFields(m Meaning) []string {
	if int(m) >= len(meaningTargets) {
		return nil
	}
	var out []string
	for _, f := range fieldTable {
		if f.Target == meaningTargets[m] {
			out = append(out, f.Path)
		}
	}
	return out
}

// AllDocumentFields lists every document field the mapping reads, so that a
// query can ask for those and nothing else.
func AllDocumentFields() []string {
	out := make([]string, 0, len(fieldTable))
	for _, f := range fieldTable {
		out = append(out, f.Path)
	}
	return out
}

// ReadDocuments reads Auditbeat documents, or search hits wrapping them
// ({"_index", "_id", "_source"}), one JSON object per line, exactly as an
// NDJSON file is read: the same field mapping, selection and repairs. name
// stands for the file in the events' origin and in errors.
func ReadDocuments(ctx context.Context, r io.Reader, name string, opts Options, fn EventFunc) (FileReport, error) {
	rep := FileReport{Path: name}
	err := decodeNDJSON(ctx, r, name, opts, fn, &rep)
	return rep, err
}
