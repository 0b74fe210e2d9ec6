package sources

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

const fingerprintBytes = 64 << 10

// Discover expands paths (files, folders and glob patterns) into inputs. A
// folder contributes the files directly inside it. Raw audit logs that share a
// base name in one folder (audit.log, audit.log.1, audit.log.2.gz) form one
// rotation set, read oldest first. A path that names nothing is an error that
// says which path; so is a glob that matches nothing.
func Discover(paths []string, opts Options) ([]Input, error) {
	var files []string
	seen := map[string]bool{}
	add := func(p string) {
		// "logs/audit.log" and "./logs/audit.log" are one file: read it once.
		if key := mustAbs(p); !seen[key] {
			seen[key] = true
			files = append(files, p)
		}
	}
	for _, p := range paths {
		if hasGlobMeta(p) {
			matches, err := filepath.Glob(p)
			if err != nil {
				return nil, fmt.Errorf("input %q: bad pattern: %w", p, err)
			}
			if len(matches) == 0 {
				return nil, fmt.Errorf("input %q: pattern matches no files", p)
			}
			n := 0
			for _, m := range matches {
				if fi, err := os.Stat(m); err == nil && fi.Mode().IsRegular() {
					add(m)
					n++
				}
			}
			if n == 0 {
				return nil, fmt.Errorf("input %q: pattern matches no files (only folders or special files)", p)
			}
			continue
		}
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("input %q: %w", p, describeOpenError(err))
		}
		if fi.IsDir() {
			entries, err := os.ReadDir(p)
			if err != nil {
				return nil, fmt.Errorf("input folder %q: %w", p, describeOpenError(err))
			}
			n := 0
			for _, e := range entries {
				if strings.HasPrefix(e.Name(), ".") {
					continue
				}
				full := filepath.Join(p, e.Name())
				regular := e.Type().IsRegular()
				if e.Type()&fs.ModeSymlink != 0 {
					// A link to a log (common when logs are collected into one folder) counts.
					fi, err := os.Stat(full)
					regular = err == nil && fi.Mode().IsRegular()
				}
				if regular {
					add(full)
					n++
				}
			}
			if n == 0 {
				return nil, fmt.Errorf("input folder %q holds no files", p)
			}
			continue
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("input %q is not a regular file", p)
		}
		add(p)
	}

	var infos []FileInfo
	var formats []Format
	for _, f := range files {
		info, format, err := inspect(f)
		if err != nil {
			return nil, err
		}
		if format == "" {
			continue // empty file: nothing to read
		}
		infos = append(infos, info)
		formats = append(formats, format)
	}
	return group(infos, formats, opts), nil
}

// group makes one input per NDJSON file and one per rotation set of raw logs.
func group(infos []FileInfo, formats []Format, opts Options) []Input {
	var inputs []Input
	sets := map[string]int{} // rotation base path -> index in inputs
	for i, info := range infos {
		if formats[i] == FormatNDJSON {
			inputs = append(inputs, Input{Format: FormatNDJSON, Files: []FileInfo{info}})
			continue
		}
		base, _ := rotationBase(info.Path)
		if j, ok := sets[base]; ok {
			inputs[j].Files = append(inputs[j].Files, info)
			continue
		}
		host := opts.Host
		if host == "" {
			host = filepath.Base(filepath.Dir(mustAbs(info.Path)))
		}
		sets[base] = len(inputs)
		inputs = append(inputs, Input{Format: FormatAuditLog, Files: []FileInfo{info}, Host: host})
	}
	for i := range inputs {
		if inputs[i].Format == FormatAuditLog {
			sortRotation(inputs[i].Files)
		}
	}
	return inputs
}

var rotationSuffix = regexp.MustCompile(`^(.*?)(?:\.(\d+))?(?:\.gz)?$`)

// rotationBase splits "dir/audit.log.3.gz" into ("dir/audit.log", 3); the live
// file has number 0.
func rotationBase(path string) (string, int) {
	m := rotationSuffix.FindStringSubmatch(path)
	n := 0
	if m[2] != "" {
		n, _ = strconv.Atoi(m[2])
	}
	return m[1], n
}

// sortRotation orders a rotation set oldest first: the highest number first,
// the live file last.
func sortRotation(files []FileInfo) {
	sort.SliceStable(files, func(i, j int) bool {
		_, a := rotationBase(files[i].Path)
		_, b := rotationBase(files[j].Path)
		if a == 0 || b == 0 {
			return b == 0 && a != 0
		}
		return a > b
	})
}

// inspect stats a file, fingerprints its content and sniffs its format from
// the first bytes of its (decompressed) content. An empty file gives an empty
// format.
func inspect(path string) (FileInfo, Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileInfo{}, "", fmt.Errorf("input %q: %w", path, describeOpenError(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return FileInfo{}, "", fmt.Errorf("input %q: %w", path, err)
	}
	info := FileInfo{Path: path, Size: fi.Size(), ModTime: fi.ModTime(), ContentSize: fi.Size()}
	var magic [2]byte
	if n, _ := io.ReadFull(f, magic[:]); n == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		info.Gzip = true
		if info.Size >= 18 { // the gzip trailer's ISIZE: content length modulo 4 GiB
			var trailer [4]byte
			if _, err := f.ReadAt(trailer[:], info.Size-4); err == nil {
				info.ContentSize = int64(binary.LittleEndian.Uint32(trailer[:]))
			}
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return FileInfo{}, "", fmt.Errorf("input %q: %w", path, err)
	}
	var content io.Reader = f
	if info.Gzip {
		zr, err := gzip.NewReader(bufio.NewReader(f))
		if err != nil {
			return FileInfo{}, "", fmt.Errorf("input %q: not a readable gzip file: %w", path, err)
		}
		defer zr.Close()
		content = zr
	}
	head := make([]byte, fingerprintBytes)
	n, err := io.ReadFull(content, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		if n == 0 {
			return FileInfo{}, "", fmt.Errorf("input %q: read: %w", path, err)
		}
		// A truncated gzip stream still fingerprints and sniffs from what it has;
		// the reader reports the truncation with its position.
	}
	head = head[:n]
	sum := sha256.Sum256(head)
	info.Fingerprint = hex.EncodeToString(sum[:])
	format, err := sniff(head)
	if err != nil {
		return FileInfo{}, "", fmt.Errorf("input %q: %w", path, err)
	}
	return info, format, nil
}

// sniff tells NDJSON from raw audit records by the first non-blank line.
func sniff(content []byte) (Format, error) {
	sc := bufio.NewScanner(bytes.NewReader(content))
	sc.Buffer(make([]byte, 0, 4096), len(content)+1)
	for first := true; sc.Scan(); first = false {
		line := sc.Bytes()
		if first {
			line = bytes.TrimPrefix(line, []byte{0xEF, 0xBB, 0xBF}) // a byte order mark from an editor
		}
		// NUL padding is what a crash leaves in a log file; it says nothing of the format.
		line = bytes.TrimSpace(bytes.TrimLeft(line, "\x00 \t\r\v\f"))
		if len(line) == 0 {
			continue
		}
		switch {
		case line[0] == '{':
			return FormatNDJSON, nil
		case bytes.HasPrefix(line, []byte("type=")), bytes.HasPrefix(line, []byte("node=")):
			return FormatAuditLog, nil
		default:
			return "", errors.New("neither Auditbeat NDJSON (a line starting with '{') nor a raw audit log (a line starting with 'type=' or 'node=')")
		}
	}
	if len(bytes.TrimSpace(content)) == 0 {
		return "", nil
	}
	// One long first line with no newline in the sniffed head.
	line := bytes.TrimSpace(content)
	switch {
	case line[0] == '{':
		return FormatNDJSON, nil
	case bytes.HasPrefix(line, []byte("type=")), bytes.HasPrefix(line, []byte("node=")):
		return FormatAuditLog, nil
	}
	return "", errors.New("neither Auditbeat NDJSON nor a raw audit log")
}

func hasGlobMeta(p string) bool { return strings.ContainsAny(p, "*?[") }

func mustAbs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

// describeOpenError turns os errors into advice an analyst can act on.
func describeOpenError(err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return errors.New("no such file or folder")
	case errors.Is(err, fs.ErrPermission):
		return errors.New("permission denied (audit logs are often readable by root only: try sudo, or copy them with a readable mode)")
	}
	return err
}

// openContent opens a file for reading its content, through gzip when the file
// is compressed. The returned closer closes both.
func openContent(info FileInfo) (io.Reader, io.Closer, error) {
	f, err := os.Open(info.Path)
	if err != nil {
		return nil, nil, fmt.Errorf("input %q: %w", info.Path, describeOpenError(err))
	}
	if !info.Gzip {
		return f, f, nil
	}
	zr, err := gzip.NewReader(bufio.NewReaderSize(f, 256<<10))
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("input %q: not a readable gzip file: %w", info.Path, err)
	}
	return zr, multiCloser{zr, f}, nil
}

type multiCloser []io.Closer

func (m multiCloser) Close() error {
	var first error
	for _, c := range m {
		if err := c.Close(); err != nil && first == nil {
			first = err
		}
	}
	return first
}
