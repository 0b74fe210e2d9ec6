package sources

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"
)

const (
	// maxDocumentBytes bounds one document (one line, or one pretty-printed
	// object): longer ones are skipped without being held in memory.
	maxDocumentBytes = 1 << 20
	// maxJSONNesting bounds how deep objects and arrays may nest, so a hostile line
	// cannot exhaust the stack.
	maxJSONNesting = 512
	// ndjsonFirstBuffer is the read buffer a file starts with; it grows only for
	// documents that do not fit.
	ndjsonFirstBuffer = 128 << 10
	// ndjsonLastBuffer is the largest read buffer: one whole document plus room
	// to see the newline that ends it.
	ndjsonLastBuffer = maxDocumentBytes + 64<<10
	// ndjsonCheckEvery is how many lines pass between looks at the context.
	ndjsonCheckEvery = 256
	// Strings this short or shorter are interned per file: hosts, users and
	// executables repeat across millions of events.
	ndjsonInternMaxBytes   = 256
	ndjsonInternMaxEntries = 1 << 14
	// argSlotsChunk is how many argument slots are allocated at a time; events get
	// disjoint windows of a chunk so a kept copy of Event.Args is never overwritten.
	argSlotsChunk = 4096
)

// readNDJSON streams the documents of an NDJSON input (plain or gzip) to fn.
func readNDJSON(ctx context.Context, in Input, opts Options, fn EventFunc) (Report, error) {
	if len(in.Files) == 0 {
		return Report{}, errors.New("NDJSON input names no file")
	}
	var rep Report
	for _, info := range in.Files {
		r, closer, err := openContent(info)
		if err != nil {
			return rep, err
		}
		fr := FileReport{Path: info.Path}
		err = decodeNDJSON(ctx, r, info.Path, opts, fn, &fr)
		closeErr := closer.Close()
		rep.Files = append(rep.Files, fr)
		if err != nil {
			return rep, err
		}
		if closeErr != nil && !damagedStream(closeErr) {
			return rep, fmt.Errorf("input %q: close: %w", info.Path, closeErr)
		}
	}
	return rep, nil
}

// decodeNDJSON reads Auditbeat documents from r, one JSON object per line (a
// pretty-printed object, as Kibana's es_archiver writes, may span lines when
// its first line is a lone "{"), and calls fn for each selected event. What
// it could not read is counted in rep with its line; the error is for a
// cancelled context, an error from fn, or a reader that fails outright.
// Well-formed documents count as Seen, selected or not; a selected document
// without a usable time or executable counts as Rejected instead, so
// Lines >= Seen + Rejected always holds.
func decodeNDJSON(ctx context.Context, r io.Reader, path string, opts Options, fn EventFunc, rep *FileReport) error {
	return newNDJSONDecoder(ctx, r, path, opts, fn, rep).run()
}

func newNDJSONDecoder(ctx context.Context, r io.Reader, path string, opts Options, fn EventFunc, rep *FileReport) *ndjsonDecoder {
	return &ndjsonDecoder{
		ctx:      ctx,
		path:     path,
		opts:     opts,
		limit:    opts.maxSamples(),
		fn:       fn,
		rep:      rep,
		src:      r,
		buf:      make([]byte, ndjsonFirstBuffer),
		interned: make(map[string]string),
	}
}

// ndjsonDecoder holds the state of reading one file. Its buffers live as long
// as the file is read, so a steady stream of documents allocates almost nothing.
type ndjsonDecoder struct {
	ctx   context.Context
	path  string
	opts  Options
	limit int
	fn    EventFunc
	rep   *FileReport
	// everything yields every well-formed document, requiring neither time nor
	// executable: tests use it to check the field mapping of any document.
	everything bool

	src        io.Reader
	buf        []byte // unread input is buf[start:end]
	start, end int
	eof        bool
	damage     error // why a compressed stream stopped early, when it did
	broken     error // why the reader failed outright, when it did
	damageSaid bool  // the damage is already in the report

	line     int64 // lines read so far
	skipping bool  // after a broken multi-line document: skip lines up to the next one starting with '{'
	nulPad   bool  // NUL bytes before the current document were dropped

	doc      docScanner
	ev       Event
	arena    []byte
	argEnds  []int
	argSlots []string
	interned map[string]string
}

func (d *ndjsonDecoder) run() error {
	defer func() { d.rep.Lines = d.line }()
	for n := 0; ; n++ {
		if n%ndjsonCheckEvery == 0 {
			if err := d.ctx.Err(); err != nil {
				return err
			}
		}
		nl := bytes.IndexByte(d.buf[d.start:d.end], '\n')
		if nl >= 0 {
			if err := d.handleLine(d.buf[d.start:d.start+nl], true); err != nil {
				return err
			}
			continue
		}
		if d.end-d.start > maxDocumentBytes {
			if err := d.skipLongLine(); err != nil {
				return err
			}
			continue
		}
		if !d.eof {
			if err := d.fillFully(); err != nil {
				return err
			}
			continue
		}
		if d.start == d.end {
			break
		}
		if d.broken != nil {
			break // a line cut short by a failing reader is not read
		}
		if d.damage != nil {
			// A damaged stream's last line is cut short: reading it could only mislead.
			d.line++
			d.reject(d.line, "%s; the file ends inside this line", damageReason(d.damage))
			d.damageSaid = true
			d.start = d.end
			break
		}
		if err := d.handleLine(d.buf[d.start:d.end], false); err != nil {
			return err
		}
	}
	if d.damage != nil && !d.damageSaid {
		d.line++
		d.reject(d.line, "%s; nothing after line %d could be read", damageReason(d.damage), d.line-1)
	}
	if d.broken != nil {
		return fmt.Errorf("input %q: read after line %d: %w", d.path, d.line, d.broken)
	}
	return nil
}

// fill reads more input, keeping the unread part and growing the buffer when
// the unread part already fills it.
func (d *ndjsonDecoder) fill() error {
	if d.start > 0 {
		d.end = copy(d.buf, d.buf[d.start:d.end])
		d.start = 0
	}
	if d.end == len(d.buf) {
		if len(d.buf) >= ndjsonLastBuffer {
			return fmt.Errorf("input %q: internal error: read buffer full", d.path)
		}
		grown := make([]byte, min(2*len(d.buf), ndjsonLastBuffer))
		copy(grown, d.buf[:d.end])
		d.buf = grown
	}
	for tries := 0; ; tries++ {
		n, err := d.src.Read(d.buf[d.end:])
		d.end += n
		switch {
		case err == io.EOF:
			d.eof = true
			return nil
		case err != nil && damagedStream(err):
			d.eof, d.damage = true, err
			return nil
		case err != nil:
			// The lines already read are still good: read them, then fail.
			d.eof, d.broken = true, err
			return nil
		case n > 0:
			return nil
		case tries > 100:
			return fmt.Errorf("input %q: read after line %d: %w", d.path, d.line, io.ErrNoProgress)
		}
	}
}

// fillFully reads until the buffer is full or the input ends, so a document
// arriving in many small reads is scanned again only when the buffer grows.
func (d *ndjsonDecoder) fillFully() error {
	if err := d.fill(); err != nil {
		return err
	}
	for !d.eof && d.end < len(d.buf) {
		if err := d.fill(); err != nil {
			return err
		}
	}
	return nil
}

// skipLongLine drops a line longer than maxDocumentBytes as it streams past,
// holding no more of it than one buffer.
func (d *ndjsonDecoder) skipLongLine() error {
	d.line++
	lineNo := d.line
	length := int64(d.end - d.start)
	d.start = d.end
	for !d.eof {
		if err := d.ctx.Err(); err != nil {
			return err
		}
		if err := d.fill(); err != nil {
			return err
		}
		if nl := bytes.IndexByte(d.buf[d.start:d.end], '\n'); nl >= 0 {
			length += int64(nl)
			d.start += nl + 1
			break
		}
		length += int64(d.end - d.start)
		d.start = d.end
	}
	if d.skipping {
		return nil // part of a broken document already rejected
	}
	if d.eof && d.damage != nil && d.start == d.end && !d.damageSaid {
		d.damageSaid = true
		d.reject(lineNo, "line of at least %d bytes is over the 1 MiB limit, and %s inside it", length, damageReason(d.damage))
		return nil
	}
	d.reject(lineNo, "line of %d bytes is over the 1 MiB limit; skipped", length)
	return nil
}

// handleLine reads the line at d.start (without its newline) and moves past it,
// or past the whole document when the line opens a pretty-printed one.
func (d *ndjsonDecoder) handleLine(line []byte, terminated bool) error {
	d.line++
	lineNo := d.line
	next := d.start + len(line)
	if terminated {
		next++
	}
	if d.skipping {
		if len(line) == 0 || line[0] != '{' {
			d.start = next
			return nil
		}
		d.skipping = false
	}
	if len(line) > maxDocumentBytes {
		d.reject(lineNo, "line of %d bytes is over the 1 MiB limit; skipped", len(line))
		d.start = next
		return nil
	}
	i := 0
	if lineNo == 1 && bytes.HasPrefix(line, []byte(ndjsonBOM)) {
		i = len(ndjsonBOM)
	}
	d.nulPad = false
	for i < len(line) {
		switch line[i] {
		case ' ', '\t', '\r':
			i++
			continue
		case 0:
			d.nulPad = true
			i++
			continue
		}
		break
	}
	if i == len(line) {
		if d.nulPad {
			d.reject(lineNo, "line holds only NUL bytes")
		}
		d.start = next
		return nil
	}
	if line[i] != '{' {
		d.reject(lineNo, "not a JSON object: the line does not start with '{'")
		d.start = next
		return nil
	}
	if opensPrettyDocument(line[i:]) {
		return d.handlePrettyDocument(lineNo, i)
	}
	s := &d.doc
	s.reset(line, false)
	if end := s.document(i); end < 0 {
		if s.incomplete {
			d.reject(lineNo, "malformed JSON: the line ends before the document does (at column %d)", len(line)+1)
		} else {
			d.reject(lineNo, "malformed JSON at column %d: %s", s.problemAt+1, s.problem)
		}
		d.start = next
		return nil
	}
	err := d.emit(lineNo)
	d.start = next
	return err
}

// ndjsonBOM is the byte order mark some editors put at the start of a file.
const ndjsonBOM = "\xEF\xBB\xBF"

// opensPrettyDocument reports whether a line is a lone "{": the first line of
// a pretty-printed document, whose body follows on the next lines.
func opensPrettyDocument(line []byte) bool {
	for _, c := range line[1:] {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// handlePrettyDocument reads a document that spans lines, starting at d.start
// (line lineNo, offset off in it).
func (d *ndjsonDecoder) handlePrettyDocument(lineNo int64, off int) error {
	s := &d.doc
	for {
		data := d.buf[d.start:d.end]
		s.reset(data, true)
		end := s.document(off)
		lineEnd := -1
		if end >= 0 {
			lineEnd = prettyDocumentLineEnd(s, end)
		}
		if (end >= 0 && lineEnd == len(data) && !d.eof) || (end < 0 && s.incomplete && !d.eof) {
			if len(data) > maxDocumentBytes {
				d.reject(lineNo, "document is over the 1 MiB limit; skipped")
				d.start += bytes.IndexByte(data, '\n') + 1 // past the lone "{", which always ends inside the buffer
				d.skipping = true
				return nil
			}
			if err := d.fillFully(); err != nil {
				return err
			}
			continue
		}
		switch {
		case end >= 0 && lineEnd >= 0:
			d.line = lineNo + int64(bytes.Count(data[:lineEnd], []byte{'\n'}))
			d.start += min(lineEnd+1, len(data))
			return d.emit(lineNo)
		case end < 0 && s.incomplete:
			d.line = lineNo + int64(bytes.Count(data, []byte{'\n'}))
			if len(data) > 0 && data[len(data)-1] == '\n' {
				d.line--
			}
			d.start = d.end
			if d.damage != nil {
				d.damageSaid = true
				d.reject(lineNo, "%s inside the document that starts on this line", damageReason(d.damage))
			} else {
				d.reject(lineNo, "malformed JSON: the file ends inside the document that starts on this line")
			}
			return nil
		}
		// A syntax error: say where, then resume at the next line that can
		// start a document.
		at := s.problemAt
		errLine := lineNo + int64(bytes.Count(data[:at], []byte{'\n'}))
		lineStart := bytes.LastIndexByte(data[:at], '\n') + 1
		d.reject(lineNo, "malformed JSON at line %d column %d: %s", errLine, at-lineStart+1, s.problem)
		if errLine > lineNo && data[lineStart] == '{' {
			// The document was cut short and a new one starts here.
			d.line = errLine - 1
			d.start += lineStart
			return nil
		}
		d.skipping = true
		if nl := bytes.IndexByte(data[at:], '\n'); nl >= 0 {
			d.line = errLine
			d.start += at + nl + 1
			return nil
		}
		// The broken line runs past the buffer: the main loop skips the rest
		// (the first line, a lone "{", always ends inside the buffer).
		if errLine == lineNo {
			if nl := bytes.IndexByte(data, '\n'); nl >= 0 {
				d.start += nl + 1
			} else {
				d.start = d.end
			}
			return nil
		}
		d.line = errLine - 1
		d.start += lineStart
		return nil
	}
}

// prettyDocumentLineEnd checks that only blanks follow a pretty-printed document on its
// last line. It returns the offset of the newline ending that line (len(data)
// when the data ends first), or -1 after recording a syntax problem.
func prettyDocumentLineEnd(s *docScanner, end int) int {
	for i := end; i < len(s.data); i++ {
		switch s.data[i] {
		case ' ', '\t', '\r':
		case '\n':
			return i
		default:
			return s.fail(i, "unexpected data after the document")
		}
	}
	return len(s.data)
}

// emit turns the scanned document into an event when the selection takes it.
func (d *ndjsonDecoder) emit(lineNo int64) error {
	s := &d.doc
	if !d.everything && !s.selects(d.opts.Selection) {
		d.rep.Seen++
		if d.nulPad {
			d.rep.Repaired++
		}
		return nil
	}
	what := "execution"
	if d.opts.Selection == AllSyscalls {
		what = "syscall event"
	}
	t, ok := s.timestamp()
	switch {
	case d.everything:
	case !s.vals[targetTime].set:
		d.reject(lineNo, "%s has no @timestamp", what)
		return nil
	case !ok:
		d.reject(lineNo, "%s has an @timestamp that is neither an RFC 3339 time nor epoch milliseconds", what)
		return nil
	case !s.vals[targetExecutable].set:
		d.reject(lineNo, "%s has no process.executable (nor Auditbeat 6 process.exe)", what)
		return nil
	}
	repaired := d.fillEvent(t, lineNo)
	d.rep.Seen++
	d.rep.Events++
	if repaired || d.nulPad {
		d.rep.Repaired++
	}
	if err := d.fn(&d.ev); err != nil {
		return fmt.Errorf("input %q line %d: %w", d.path, lineNo, err)
	}
	return nil
}

// fillEvent copies the mapped fields into the reused event. Short repeating
// values are interned; arguments, title and document id share one allocation.
func (d *ndjsonDecoder) fillEvent(t time.Time, lineNo int64) (repaired bool) {
	s := &d.doc
	text := func(target fieldTarget) string {
		v := s.vals[target]
		if !v.set {
			return ""
		}
		b, fixed := s.text(v)
		repaired = repaired || fixed
		return d.intern(b)
	}
	ev := &d.ev
	*ev = Event{
		Time:       t,
		Host:       text(targetHost),
		Container:  Container{ID: text(targetContainerID), Name: text(targetContainerName), Runtime: text(targetContainerRuntime)},
		Executable: text(targetExecutable),
		Name:       text(targetName),
		User: User{
			Name:      text(targetUserName),
			ID:        text(targetUserID),
			AuditName: text(targetAuditName),
			AuditID:   text(targetAuditID),
		},
		PID:        s.integer(targetPID),
		PPID:       s.integer(targetPPID),
		WorkingDir: text(targetWorkingDir),
		Syscall:    text(targetSyscall),
		Action:     text(targetAction),
		Origin:     Origin{File: d.path, Line: lineNo, Index: text(targetIndex)},
	}
	if ev.Host == "" {
		ev.Host = d.opts.Host // a document that names no host belongs to the one the user named, if any
	}
	if v := s.vals[targetResult]; v.set {
		b, _ := s.text(v)
		ev.Result = ecsOutcome(b)
	}

	// Arguments, title and id are mostly unique: build them in one string.
	d.arena = d.arena[:0]
	d.argEnds = d.argEnds[:0]
	if s.vals[targetArgs].set {
		for _, sp := range s.args {
			b, fixed := s.text(fieldValue{span: sp})
			repaired = repaired || fixed
			d.arena = append(d.arena, b...)
			d.argEnds = append(d.argEnds, len(d.arena))
		}
	}
	titleStart := len(d.arena)
	if v := s.vals[targetTitle]; v.set {
		b, fixed := s.text(v)
		repaired = repaired || fixed
		d.arena = append(d.arena, b...)
	}
	idStart := len(d.arena)
	if v := s.vals[targetID]; v.set {
		b, fixed := s.text(v)
		repaired = repaired || fixed
		d.arena = append(d.arena, b...)
	}
	all := string(d.arena)
	if n := len(d.argEnds); n > 0 || s.vals[targetArgs].set {
		if len(d.argSlots) < n {
			d.argSlots = make([]string, max(argSlotsChunk, n))
		}
		args := d.argSlots[:n:n]
		d.argSlots = d.argSlots[n:]
		from := 0
		for i, to := range d.argEnds {
			args[i] = all[from:to]
			from = to
		}
		ev.Args = args
	}
	ev.Title = all[titleStart:idStart]
	ev.Origin.ID = all[idStart:]
	return repaired
}

// intern returns a string for b, shared with earlier equal values of this file.
func (d *ndjsonDecoder) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > ndjsonInternMaxBytes {
		return string(b)
	}
	if s, ok := d.interned[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(d.interned) < ndjsonInternMaxEntries {
		d.interned[s] = s
	}
	return s
}

func (d *ndjsonDecoder) reject(line int64, format string, args ...any) {
	d.rep.reject(line, d.limit, format, args...)
}

// damagedStream reports whether a read error means the compressed content is
// cut short or corrupt, rather than the file being unreadable.
func damagedStream(err error) bool {
	var corrupt flate.CorruptInputError
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, gzip.ErrChecksum) ||
		errors.Is(err, gzip.ErrHeader) || errors.As(err, &corrupt)
}

func damageReason(err error) string {
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "the gzip stream is truncated"
	case errors.Is(err, gzip.ErrChecksum):
		return "the gzip stream fails its checksum"
	default:
		return "the gzip stream is corrupt"
	}
}

// ecsOutcome normalizes event.outcome and auditd.result values.
func ecsOutcome(b []byte) string {
	switch string(b) {
	case "success":
		return "success"
	case "fail", "failure", "failed":
		return "fail"
	}
	return ""
}

// valueSpan is where a value's text sits in the document: the inside of a
// string (escaped says whether it holds backslash escapes) or a number.
type valueSpan struct {
	start, end int
	escaped    bool
}

// fieldValue is the value the document gave a target, and the rank of the
// field it came from, so a better-ranked field met later replaces it.
type fieldValue struct {
	span   valueSpan
	number bool
	set    bool
	rank   uint8
}

// Syntax problems, said without quoting the data.
const (
	jsonProblemShort           = "the document ends early"
	jsonProblemValue           = "expected a value"
	jsonProblemKey             = "expected a field name in double quotes"
	jsonProblemColon           = "expected ':' after a field name"
	jsonProblemObjectSep       = "expected ',' or '}' in an object"
	jsonProblemArraySep        = "expected ',' or ']' in an array"
	jsonProblemEscape          = "invalid escape in a string"
	jsonProblemNumber          = "invalid number"
	jsonProblemLiteral         = "invalid literal (expected true, false or null)"
	jsonProblemDeep            = "objects and arrays nest more than 512 levels deep"
	jsonProblemNewlineInString = "a line break inside a string"
	jsonProblemTrailing        = "unexpected data after the document"
)

// docScanner walks one JSON document once. It follows fieldTree while keys
// match, records where the values of mapped fields are, and checks the syntax
// of everything else without decoding or allocating.
type docScanner struct {
	data        []byte
	multiLine   bool // newlines are blanks between tokens (pretty-printed documents)
	problem     string
	problemAt   int
	incomplete  bool // the data ended inside the document
	nextNewline int  // in multi-line documents, the first newline at or after the string being read
	inSource    bool // inside the document of a search hit or es_archiver record

	vals    [targetCount]fieldValue
	args    []valueSpan
	keyword [targetCount]bool // a valueKeywords target holds its wanted word

	keyBuf    []byte
	scratch   []byte
	repairBuf []byte
}

func (s *docScanner) reset(data []byte, multiLine bool) {
	s.data = data
	s.multiLine = multiLine
	s.problem, s.problemAt = "", 0
	s.incomplete = false
	s.nextNewline = -1
	s.inSource = false
	s.vals = [targetCount]fieldValue{}
	s.args = s.args[:0]
	s.keyword = [targetCount]bool{}
}

// fail records the first problem and returns -1, the walker's "stop" position.
func (s *docScanner) fail(at int, problem string) int {
	if s.problem == "" {
		s.problem, s.problemAt = problem, at
	}
	return -1
}

func (s *docScanner) short() int {
	s.incomplete = true
	return s.fail(len(s.data), jsonProblemShort)
}

// document reads the object at i. On one line, only blanks may follow it; a
// pretty-printed document's caller checks the rest of its last line.
func (s *docScanner) document(i int) int {
	end := s.object(i, fieldTree, 0)
	if end < 0 || s.multiLine {
		return end
	}
	if j := s.blank(end); j < len(s.data) {
		return s.fail(j, jsonProblemTrailing)
	}
	return end
}

func (s *docScanner) blank(i int) int {
	if i < len(s.data) && s.data[i] > ' ' {
		return i // compact documents have no blanks
	}
	for i < len(s.data) {
		switch s.data[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// object reads the object at i. node is the field-tree node for its path, or
// nil when nothing inside is mapped.
func (s *docScanner) object(i int, node *fieldNode, depth int) int {
	if depth >= maxJSONNesting {
		return s.fail(i, jsonProblemDeep)
	}
	data := s.data
	if i = s.blank(i + 1); i >= len(data) {
		return s.short()
	}
	if data[i] == '}' {
		return i + 1
	}
	for {
		if data[i] != '"' {
			return s.fail(i, jsonProblemKey)
		}
		keyEnd, escaped := s.str(i)
		if keyEnd < 0 {
			return -1
		}
		var child *fieldNode
		if node != nil {
			key := data[i+1 : keyEnd-1]
			if escaped {
				s.keyBuf, _ = appendJSONUnescaped(s.keyBuf[:0], key)
				key = s.keyBuf
			}
			if child = node.child(key); child != nil && child.wrapper && s.inSource {
				child = nil
			}
		}
		if i = s.blank(keyEnd); i >= len(data) {
			return s.short()
		}
		if data[i] != ':' {
			return s.fail(i, jsonProblemColon)
		}
		if i = s.blank(i + 1); i >= len(data) {
			return s.short()
		}
		if child == nil {
			i = s.skip(i, depth+1)
		} else {
			i = s.field(i, child, depth+1)
		}
		if i < 0 {
			return -1
		}
		if i = s.blank(i); i >= len(data) {
			return s.short()
		}
		switch data[i] {
		case ',':
			if i = s.blank(i + 1); i >= len(data) {
				return s.short()
			}
		case '}':
			return i + 1
		default:
			return s.fail(i, jsonProblemObjectSep)
		}
	}
}

// array reads the array at i; each is called with the start of every element
// and returns where the element ends (nil skips them).
func (s *docScanner) array(i, depth int, each func(i int) int) int {
	if depth >= maxJSONNesting {
		return s.fail(i, jsonProblemDeep)
	}
	data := s.data
	if i = s.blank(i + 1); i >= len(data) {
		return s.short()
	}
	if data[i] == ']' {
		return i + 1
	}
	for {
		if each != nil {
			i = each(i)
		} else {
			i = s.skip(i, depth+1)
		}
		if i < 0 {
			return -1
		}
		if i = s.blank(i); i >= len(data) {
			return s.short()
		}
		switch data[i] {
		case ',':
			if i = s.blank(i + 1); i >= len(data) {
				return s.short()
			}
		case ']':
			return i + 1
		default:
			return s.fail(i, jsonProblemArraySep)
		}
	}
}

// skip checks the syntax of the value at i and returns where it ends.
func (s *docScanner) skip(i, depth int) int {
	switch c := s.data[i]; {
	case c == '"':
		end, _ := s.str(i)
		return end
	case c == '{':
		return s.object(i, nil, depth)
	case c == '[':
		return s.array(i, depth, nil)
	case c == 't':
		return s.literal(i, "true")
	case c == 'f':
		return s.literal(i, "false")
	case c == 'n':
		return s.literal(i, "null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number(i)
	default:
		return s.fail(i, jsonProblemValue)
	}
}

func (s *docScanner) literal(i int, word string) int {
	rest := s.data[i:]
	if len(rest) < len(word) {
		if string(rest) == word[:len(rest)] {
			return s.short()
		}
		return s.fail(i, jsonProblemLiteral)
	}
	if string(rest[:len(word)]) != word {
		return s.fail(i, jsonProblemLiteral)
	}
	return i + len(word)
}

// number checks a JSON number at i and returns where it ends.
func (s *docScanner) number(i int) int {
	data := s.data
	j := i
	if data[j] == '-' {
		j++
	}
	digits := func() bool {
		from := j
		for j < len(data) && data[j] >= '0' && data[j] <= '9' {
			j++
		}
		return j > from
	}
	switch {
	case j >= len(data):
		return s.short()
	case data[j] == '0':
		j++
	case data[j] >= '1' && data[j] <= '9':
		digits()
	default:
		return s.fail(j, jsonProblemNumber)
	}
	if j < len(data) && data[j] == '.' {
		j++
		if !digits() {
			if j >= len(data) {
				return s.short()
			}
			return s.fail(j, jsonProblemNumber)
		}
	}
	if j < len(data) && (data[j] == 'e' || data[j] == 'E') {
		j++
		if j < len(data) && (data[j] == '+' || data[j] == '-') {
			j++
		}
		if !digits() {
			if j >= len(data) {
				return s.short()
			}
			return s.fail(j, jsonProblemNumber)
		}
	}
	return j
}

// str checks the string whose opening quote is at i. It returns the position
// after the closing quote and whether the string holds escapes. Each byte is
// looked at a bounded number of times, whatever the escapes.
func (s *docScanner) str(i int) (int, bool) {
	data := s.data
	limit := len(data)
	if s.multiLine {
		// A string never spans lines: a quote left open must not swallow the
		// lines after it. The next newline is remembered, so a long line of
		// many strings is searched once.
		if s.nextNewline < i {
			s.nextNewline = len(data)
			if nl := bytes.IndexByte(data[i:], '\n'); nl >= 0 {
				s.nextNewline = i + nl
			}
		}
		limit = s.nextNewline
	}
	j := i + 1
	escaped := false
	// Most strings are short: a plain loop beats IndexByte's setup cost.
	for end := min(j+shortJSONString, limit); j < end; j++ {
		switch data[j] {
		case '"':
			return j + 1, false
		case '\\':
			return s.strRest(j, limit, true)
		}
	}
	return s.strRest(j, limit, escaped)
}

// shortJSONString is how many bytes str looks at one by one before it searches.
const shortJSONString = 32

// strRest finishes a string from j, searching for quotes and escapes.
func (s *docScanner) strRest(j, limit int, escaped bool) (int, bool) {
	data := s.data
	for {
		q := bytes.IndexByte(data[j:limit], '"')
		if q < 0 {
			if limit < len(data) {
				return s.fail(limit, jsonProblemNewlineInString), false
			}
			return s.short(), false
		}
		q += j
		for j <= q {
			b := bytes.IndexByte(data[j:q], '\\')
			if b < 0 {
				return q + 1, escaped
			}
			escaped = true
			p := j + b
			n := jsonEscapeLength(data[p:limit])
			switch {
			case n < 0:
				if limit < len(data) {
					return s.fail(p, jsonProblemEscape), false
				}
				return s.short(), false
			case n == 0:
				return s.fail(p, jsonProblemEscape), false
			}
			j = p + n
		}
		// The quote found was escaped: look for the next one.
	}
}

// jsonEscapeLength is the length of the escape at the start of b, 0 when it is
// invalid, -1 when b ends inside it.
func jsonEscapeLength(b []byte) int {
	if len(b) < 2 {
		return -1
	}
	switch b[1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		return 2
	case 'u':
		for k := 2; k < 6; k++ {
			if k >= len(b) {
				return -1
			}
			if jsonHexDigit(b[k]) < 0 {
				return 0
			}
		}
		return 6
	}
	return 0
}

func jsonHexDigit(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// field reads the value at i of a mapped field.
func (s *docScanner) field(i int, node *fieldNode, depth int) int {
	data := s.data
	c := data[i]
	if c == '{' {
		switch {
		case node.source && !s.inSource:
			s.inSource = true
			end := s.object(i, fieldTree, depth)
			s.inSource = false
			return end
		case len(node.children) > 0:
			return s.object(i, node, depth)
		}
		return s.skip(i, depth)
	}
	if !node.leaf {
		return s.skip(i, depth)
	}
	switch fieldKinds[node.target] {
	case valueList:
		return s.list(i, node, depth)
	case valueKeywords:
		if c == '[' {
			return s.array(i, depth, func(j int) int { return s.keywordAt(j, node.target, depth+1) })
		}
		return s.keywordAt(i, node.target, depth)
	}
	switch {
	case c == '"':
		end, escaped := s.str(i)
		if end >= 0 {
			s.record(node, valueSpan{i + 1, end - 1, escaped}, false)
		}
		return end
	case c == '-' || (c >= '0' && c <= '9'):
		end := s.number(i)
		if end >= 0 {
			s.record(node, valueSpan{i, end, false}, true)
		}
		return end
	case c == '[' && fieldKinds[node.target] == valueText:
		// A list stands for its first string, as Elasticsearch's fields output writes single values.
		return s.array(i, depth, func(j int) int {
			if data[j] != '"' {
				return s.skip(j, depth+1)
			}
			end, escaped := s.str(j)
			if end >= 0 {
				s.record(node, valueSpan{j + 1, end - 1, escaped}, false)
			}
			return end
		})
	}
	return s.skip(i, depth)
}

// record keeps a value for node's target unless a better-ranked field already gave one.
func (s *docScanner) record(node *fieldNode, sp valueSpan, number bool) {
	if sp.end == sp.start {
		return // an empty string says nothing
	}
	v := &s.vals[node.target]
	if v.set && v.rank <= node.rank {
		return
	}
	if fieldKinds[node.target] == valueOutcome {
		if number || ecsOutcome(s.raw(sp)) == "" {
			return // "unknown" leaves room for a lower-ranked field that knows
		}
	}
	*v = fieldValue{span: sp, number: number, set: true, rank: node.rank}
}

// list reads process.args: a list of strings (numbers kept as their text), or
// a single string.
func (s *docScanner) list(i int, node *fieldNode, depth int) int {
	v := &s.vals[node.target]
	take := !v.set || node.rank < v.rank
	if take {
		*v = fieldValue{set: true, rank: node.rank}
		s.args = s.args[:0]
	}
	element := func(j int) int {
		switch c := s.data[j]; {
		case c == '"':
			end, escaped := s.str(j)
			if end >= 0 && take {
				s.args = append(s.args, valueSpan{j + 1, end - 1, escaped})
			}
			return end
		case c == '-' || (c >= '0' && c <= '9'):
			end := s.number(j)
			if end >= 0 && take {
				s.args = append(s.args, valueSpan{j, end, false})
			}
			return end
		}
		return s.skip(j, depth+1)
	}
	switch s.data[i] {
	case '[':
		return s.array(i, depth, element)
	case '"':
		return element(i)
	}
	if take {
		*v = fieldValue{}
	}
	return s.skip(i, depth)
}

// keywordAt reads one element of event.category or event.type.
func (s *docScanner) keywordAt(i int, target fieldTarget, depth int) int {
	if s.data[i] != '"' {
		return s.skip(i, depth)
	}
	end, escaped := s.str(i)
	if end < 0 {
		return end
	}
	if string(s.raw(valueSpan{i + 1, end - 1, escaped})) == keywordWanted[target] {
		s.keyword[target] = true
	}
	return end
}

// raw returns a value's text with escapes decoded but nothing repaired, in a
// buffer reused by the next call.
func (s *docScanner) raw(sp valueSpan) []byte {
	b := s.data[sp.start:sp.end]
	if !sp.escaped {
		return b
	}
	s.scratch, _ = appendJSONUnescaped(s.scratch[:0], b)
	return s.scratch
}

// text returns a value's text ready for an event: escapes decoded, invalid
// UTF-8 and NUL bytes replaced by U+FFFD. repaired says whether anything was
// replaced. The bytes are only valid until the next call.
func (s *docScanner) text(v fieldValue) (b []byte, repaired bool) {
	b = s.data[v.span.start:v.span.end]
	if v.span.escaped {
		s.scratch, repaired = appendJSONUnescaped(s.scratch[:0], b)
		b = s.scratch
	}
	if utf8.Valid(b) && bytes.IndexByte(b, 0) < 0 {
		return b, repaired
	}
	s.repairBuf = appendValidUTF8(s.repairBuf[:0], b)
	return s.repairBuf, true
}

func (s *docScanner) equals(target fieldTarget, want string) bool {
	v := s.vals[target]
	return v.set && string(s.raw(v.span)) == want
}

// selects says whether the selection takes the document. Executions are
// execve/execveat syscalls, event.action "executed", and documents whose
// event.category holds "process" and event.type holds "start", except two
// kinds that are not executions: the system module's process_started
// documents (snapshots from polling /proc, which miss short-lived processes
// and repeat on hosts that also run the auditd module) and auditd user-space
// messages such as sudo's "ran-command", whose execve is a document of its own.
func (s *docScanner) selects(sel Selection) bool {
	if sel == AllSyscalls {
		return s.vals[targetSyscall].set
	}
	if s.equals(targetAction, "executed") || s.equals(targetSyscall, "execve") || s.equals(targetSyscall, "execveat") {
		return true
	}
	if !s.keyword[targetCategory] || !s.keyword[targetType] {
		return false
	}
	if s.equals(targetModule, "system") {
		return false
	}
	if s.vals[targetMessageType].set && !s.equals(targetMessageType, "syscall") {
		return false
	}
	return true
}

// timestamp decodes @timestamp: an RFC 3339 string, or epoch milliseconds.
func (s *docScanner) timestamp() (time.Time, bool) {
	v := s.vals[targetTime]
	if !v.set {
		return time.Time{}, false
	}
	b := s.raw(v.span)
	if v.number {
		ms, ok := parseJSONInteger(b)
		if !ok {
			return time.Time{}, false
		}
		return time.UnixMilli(ms).UTC(), true
	}
	return parseRFC3339(b)
}

// integer decodes a pid: a JSON integer or a string of digits; anything else is 0.
func (s *docScanner) integer(target fieldTarget) int64 {
	v := s.vals[target]
	if !v.set {
		return 0
	}
	n, _ := parseJSONInteger(s.raw(v.span))
	return n
}

func parseJSONInteger(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg, b = true, b[1:]
	}
	if len(b) == 0 || len(b) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// parseRFC3339 parses "2006-01-02T15:04:05[.fraction](Z|±hh:mm)" without
// allocating; the result is in UTC.
func parseRFC3339(b []byte) (time.Time, bool) {
	num := func(from, to int) int {
		n := 0
		for _, c := range b[from:to] {
			if c < '0' || c > '9' {
				return -1
			}
			n = n*10 + int(c-'0')
		}
		return n
	}
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[13] != ':' || b[16] != ':' {
		return time.Time{}, false
	}
	if c := b[10]; c != 'T' && c != 't' && c != ' ' {
		return time.Time{}, false
	}
	year, month, day := num(0, 4), num(5, 7), num(8, 10)
	hour, minute, sec := num(11, 13), num(14, 16), num(17, 19)
	if year < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 ||
		minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	if day > daysInMonth(time.Month(month), year) {
		return time.Time{}, false
	}
	i := 19
	nsec := 0
	if b[i] == '.' || b[i] == ',' {
		i++
		from := i
		scale := 100000000
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			nsec += int(b[i]-'0') * scale // digits past nanoseconds add 0
			scale /= 10
			i++
		}
		if i == from || i >= len(b) {
			return time.Time{}, false
		}
	}
	offset := 0
	switch b[i] {
	case 'Z', 'z':
		i++
	case '+', '-':
		if len(b)-i != 6 || b[i+3] != ':' {
			return time.Time{}, false
		}
		oh, om := num(i+1, i+3), num(i+4, i+6)
		if oh < 0 || oh > 23 || om < 0 || om > 59 {
			return time.Time{}, false
		}
		offset = (oh*60 + om) * 60
		if b[i] == '-' {
			offset = -offset
		}
		i += 6
	default:
		return time.Time{}, false
	}
	if i != len(b) {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	return t.Add(-time.Duration(offset) * time.Second), true
}

func daysInMonth(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// appendJSONUnescaped decodes JSON string escapes (the caller checked them).
// A lone UTF-16 surrogate becomes U+FFFD and counts as a repair.
func appendJSONUnescaped(dst, b []byte) ([]byte, bool) {
	repaired := false
	for len(b) > 0 {
		k := bytes.IndexByte(b, '\\')
		if k < 0 {
			return append(dst, b...), repaired
		}
		dst = append(dst, b[:k]...)
		b = b[k:]
		if len(b) < 2 {
			return append(dst, b...), repaired
		}
		switch c := b[1]; c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r, n := decodeJSONUnicodeEscape(b)
			if n == 0 {
				return append(dst, b...), repaired
			}
			if r == utf8.RuneError {
				repaired = true
			}
			dst = utf8.AppendRune(dst, r)
			b = b[n:]
			continue
		default: // '"', '\\', '/'
			dst = append(dst, c)
		}
		b = b[2:]
	}
	return dst, repaired
}

// decodeJSONUnicodeEscape decodes a \uXXXX escape at the start of b, joining a surrogate pair.
// It returns the rune and the bytes used (0 when b does not hold an escape).
func decodeJSONUnicodeEscape(b []byte) (rune, int) {
	hex4 := func(b []byte) rune {
		if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
			return -1
		}
		var r rune
		for _, c := range b[2:6] {
			v := jsonHexDigit(c)
			if v < 0 {
				return -1
			}
			r = r<<4 | rune(v)
		}
		return r
	}
	r := hex4(b)
	switch {
	case r < 0:
		return 0, 0
	case r >= 0xD800 && r < 0xDC00:
		if lo := hex4(b[6:]); lo >= 0xDC00 && lo < 0xE000 {
			return 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00), 12
		}
		return utf8.RuneError, 6
	case r >= 0xDC00 && r < 0xE000:
		return utf8.RuneError, 6
	}
	return r, 6
}

// appendValidUTF8 copies b, replacing each invalid UTF-8 byte and each NUL
// with U+FFFD, as encoding/json does for invalid bytes.
func appendValidUTF8(dst, b []byte) []byte {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && n == 1, r == 0:
			dst = utf8.AppendRune(dst, utf8.RuneError)
		default:
			dst = append(dst, b[:n]...)
		}
		b = b[n:]
	}
	return dst
}
