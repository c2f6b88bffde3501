package parser

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Limits that keep the memory of one parse bounded whatever the input.
const (
	// MaxLineLength is the longest piece of a line the parser looks at at
	// once. A longer line is read as several pieces, each handled as a
	// line of its own (so no byte of the input is skipped and a final code
	// after it is still found); Result.LongLines counts such lines.
	MaxLineLength = 64 << 10
	// MaxFileErrors is how many file errors a Result keeps. Later ones are
	// only counted, by kind, in Result.Dropped.
	MaxFileErrors = 10000
	// MaxUnreadableDirs bounds the opendir failures of one run that
	// deleting lines are checked against, so that a run with many
	// deletions and many unreadable directories stays linear. Deletions
	// under later unreadable directories are not counted in
	// Result.DeletedUnreadable.
	MaxUnreadableDirs = 64
	// MaxPathLen and MaxMessageLen cap the bytes kept of one file error's
	// path and message; longer ones are cut.
	MaxPathLen    = 4096
	MaxMessageLen = 1024
	// MaxFileErrorBytes caps the bytes of paths and messages a Result keeps
	// in all, so that what one parse holds stays bounded (10,000 errors of
	// the longest paths would be 50 MiB); later errors are only counted in
	// Result.Dropped, as past MaxFileErrors. A typical file error takes
	// about 200 bytes, so real reports rarely meet it.
	MaxFileErrorBytes = 2 << 20
)

// Noise kinds counted in Result.Noise.
const (
	NoiseCygwin     = "cygwin_warning" // the cygwin1.dll "MS-DOS style path detected" block
	NoiseSSH        = "ssh"            // ssh's chatter about a missing HOME or known_hosts
	NoisePowerShell = "powershell"     // PowerShell's NativeCommandError decoration of stderr
)

// Parse reads the output of one rsync run (stdout and stderr mixed, as in
// `rsync -v ... > stats.out 2>&1`) and returns what it found, with Status
// set as Apply would set it with no exceptions.
//
// Parse reads r to the end, line by line, through one buffer of 256 KiB,
// and looks at most MaxLineLength bytes of a line at a time; it detects a UTF-16LE or UTF-8 byte order mark.
// It never fails on content: any bytes give a Result. When r returns an
// error other than io.EOF, Parse stops there and returns the Result of
// what it read so far, judged by the same rules, together with the error.
func Parse(r io.Reader) (*Result, error) {
	p := &parser{res: &Result{FileErrors: []FileError{}, Encoding: "utf-8"}}
	counter := &countingReader{r: r}
	buf := bufPool.Get().(*[]byte)
	defer bufPool.Put(buf)
	lr := lineReader{r: p.detectEncoding(counter), buf: *buf, crNext: -1}
	p.run(&lr)
	p.res.Bytes = counter.n
	if !errors.Is(lr.err, io.EOF) {
		return p.res, fmt.Errorf("read rsync output: %w", lr.err)
	}
	return p.res, nil
}

// ParseBytes is Parse of a log already in memory, such as a file mapped
// with mmap: it gives the Result Parse(bytes.NewReader(b)) gives, but
// reads the lines in place, without copying b into a read buffer, so
// that `backupreport parse FILE` of a large log costs little more than
// finding its newlines. b is only read, never kept.
func ParseBytes(b []byte) *Result {
	if bytes.HasPrefix(b, []byte{0xff, 0xfe}) || (len(b) >= 4 && b[0] != 0 && b[1] == 0 && b[2] != 0 && b[3] == 0) {
		// UTF-16 is decoded through the reader path; it never fails on
		// an in-memory reader.
		res, _ := Parse(bytes.NewReader(b))
		return res
	}
	p := &parser{res: &Result{FileErrors: []FileError{}, Encoding: "utf-8"}}
	text := bytes.TrimPrefix(b, []byte{0xef, 0xbb, 0xbf})
	// The whole input is the buffer and its end is the end of input: the
	// line reader never reads, so it never moves or copies a byte.
	lr := lineReader{r: eofReader{}, buf: text[:len(text):len(text)], end: len(text), err: io.EOF, crNext: -1}
	p.run(&lr)
	p.res.Bytes = int64(len(b))
	return p.res
}

// run reads every line lr gives and finishes the Result.
func (p *parser) run(lr *lineReader) {
	for {
		if !slowLinesOnly {
			p.ordinaryLines(lr)
		}
		line, cont, cr, ok := lr.next()
		if !ok {
			break
		}
		if !cont {
			p.res.Lines++
			if lr.partial {
				p.res.LongLines++
			}
		}
		p.cont = cont
		if cr {
			p.line(line)
		} else {
			p.segment(line)
		}
	}
	p.finish()
}

// ordinaryLines handles the ordinary lines (see segment) that come next in
// lr's buffer, up to the first other line, in one loop with no call but
// the search for '\n': for each, what next and then segment would do. Most
// lines of a report are file names, and calling both for each of them
// cost about as much as finding its end.
func (p *parser) ordinaryLines(lr *lineReader) {
	// Only whole lines in the buffer, no cut line pending, and only up to
	// where lr knows there is no '\r' (next's first case).
	if lr.partial || lr.crNext >= 0 {
		return
	}
	buf, s, n := lr.buf[:min(lr.crTo, lr.end)], lr.start, 0
	for s < len(buf) {
		i := bytes.IndexByte(buf[s:], '\n')
		if i <= 0 || i > MaxLineLength || !plainFirst[buf[s]] || buf[s+i-1] <= ' ' {
			break
		}
		s += i + 1
		n++
	}
	if n == 0 {
		return
	}
	lr.start, lr.scanned = s, s
	p.res.Lines += n
	if p.inList {
		p.res.FilesListed += n
	}
	p.cont, p.indented, p.inCygwin, p.inPS, p.complete = false, false, false, false, false
}

// slowLinesOnly turns ordinaryLines off, for the tests that prove it
// changes nothing.
var slowLinesOnly = false

// bufPool keeps read buffers between calls: re-evaluation parses many
// small stored logs in a row, and a fresh 256 KiB buffer each time cost
// more than parsing them.
var bufPool = sync.Pool{New: func() any {
	b := make([]byte, readBufferSize)
	return &b
}}

// readBufferSize is the size of the one read buffer: a few times
// MaxLineLength, so that reads are large.
const readBufferSize = 4 * MaxLineLength

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	if n > 0 {
		c.n += int64(n)
	}
	return n, err
}

// detectEncoding reads the first bytes of r, skips a byte order mark and
// returns a reader of UTF-8 text, which returns r's error, if any, after
// the bytes read before it. Windows PowerShell's `>` writes UTF-16LE
// with a BOM; a UTF-16LE stream without one is recognised by its zero
// bytes.
func (p *parser) detectEncoding(r io.Reader) io.Reader {
	var pre [4]byte
	n, err := io.ReadAtLeast(r, pre[:], len(pre))
	switch {
	case err == nil:
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		// A short input: what was read is all there is.
		r = eofReader{}
	default:
		// Keep what was read; the line reader reports the error after it.
		r = errReader{err}
	}
	head := pre[:n]
	switch {
	case bytes.HasPrefix(head, []byte{0xff, 0xfe}):
		p.res.Encoding = "utf-16le"
		return newUTF16Reader(io.MultiReader(bytes.NewReader(head[2:]), r))
	case bytes.HasPrefix(head, []byte{0xef, 0xbb, 0xbf}):
		head = head[3:]
	case n == 4 && pre[0] != 0 && pre[1] == 0 && pre[2] != 0 && pre[3] == 0:
		p.res.Encoding = "utf-16le"
		return newUTF16Reader(io.MultiReader(bytes.NewReader(head), r))
	}
	return io.MultiReader(bytes.NewReader(head), r)
}

type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// lineReader splits a stream into lines without their '\n', like
// bufio.Scanner, but a line longer than its buffer comes out in pieces
// instead of ending the input.
type lineReader struct {
	r          io.Reader
	buf        []byte
	start, end int // unread bytes are buf[start:end]
	scanned    int // buf[start:scanned] holds no '\n'
	err        error
	partial    bool // the last piece was cut: the next one continues its line
	empty      int  // reads in a row that returned nothing
	// crNext is the index of the next '\r' at or after the line being
	// returned, or -1 when buf[:crTo] holds none after it. One search per
	// crWindow bytes instead of one per line keeps '\r' detection cheap.
	crNext, crTo int
}

// crWindow is how far past a line hasCR looks for the next '\r': far
// enough that one search serves hundreds of lines, near enough that the
// bytes it read are still in the CPU's cache when the lines are split. A
// search of the whole buffer at once (all of a mapped file in ParseBytes)
// read the input from memory twice: 100 MB parsed in 34-37 ms instead of
// 27-31.
const crWindow = 64 << 10

// hasCR reports whether buf[s:i] holds a '\r'.
func (lr *lineReader) hasCR(s, i int) bool {
	if (lr.crNext >= 0 && lr.crNext < s) || (lr.crNext < 0 && i > lr.crTo) {
		lr.crTo = min(lr.end, max(i, s+crWindow))
		if j := bytes.IndexByte(lr.buf[s:lr.crTo], '\r'); j >= 0 {
			lr.crNext = s + j
		} else {
			lr.crNext = -1
		}
	}
	return lr.crNext >= 0 && lr.crNext < i
}

// next returns the next line or piece, whether it continues a cut line,
// whether it holds a '\r', and false at the end of the input. The slice is
// valid until the next call.
func (lr *lineReader) next() (line []byte, cont, cr, ok bool) {
	// The common case, without a call: a whole line of at most
	// MaxLineLength in the buffer, no cut line pending. It does what next1
	// does for it.
	if !lr.partial {
		if nl := bytes.IndexByte(lr.buf[lr.scanned:lr.end], '\n'); nl >= 0 {
			nl += lr.scanned
			if s := lr.start; nl-s <= MaxLineLength {
				lr.start, lr.scanned = nl+1, nl+1
				if lr.crNext < 0 && nl <= lr.crTo {
					return lr.buf[s:nl], false, false, true
				}
				return lr.buf[s:nl], false, lr.hasCR(s, nl), true
			}
		}
	}
	line, cont, ok = lr.next1()
	if !ok {
		return nil, false, false, false
	}
	// line is buf[x:x+len(line)]; its capacity tells x.
	x := cap(lr.buf) - cap(line)
	if i := x + len(line); lr.crNext < 0 && i <= lr.crTo {
		return line, cont, false, true // the common case, without a call
	}
	return line, cont, lr.hasCR(x, x+len(line)), true
}

func (lr *lineReader) next1() (line []byte, cont, ok bool) {
	for {
		nl := bytes.IndexByte(lr.buf[lr.scanned:lr.end], '\n')
		if nl >= 0 {
			nl += lr.scanned
			lr.scanned = nl
		} else {
			lr.scanned = lr.end
		}
		// A line longer than MaxLineLength, whole or not yet, comes out in
		// pieces.
		if (nl >= 0 && nl-lr.start > MaxLineLength) || (nl < 0 && lr.end-lr.start >= MaxLineLength) {
			cut := cutPoint(lr.buf[lr.start : lr.start+MaxLineLength])
			line, cont = lr.buf[lr.start:lr.start+cut], lr.partial
			lr.start += cut
			lr.partial = true
			return line, cont, true
		}
		if nl >= 0 {
			if lr.partial {
				// The end of a cut line: a final status line glued to its
				// end must come out as a piece of its own.
				if k := lastFinalStart(lr.buf[lr.start:nl]); k > 0 {
					line = lr.buf[lr.start : lr.start+k]
					lr.start += k
					return line, true, true
				}
			}
			line, cont = lr.buf[lr.start:nl], lr.partial
			lr.start, lr.scanned, lr.partial = nl+1, nl+1, false
			return line, cont, true
		}
		if lr.err != nil {
			if lr.start == lr.end {
				return nil, false, false
			}
			line, cont = lr.buf[lr.start:lr.end], lr.partial
			lr.start, lr.partial = lr.end, false
			return line, cont, true
		}
		if lr.end == len(lr.buf) {
			n := copy(lr.buf, lr.buf[lr.start:lr.end])
			lr.start, lr.end, lr.scanned = 0, n, n
			lr.crNext, lr.crTo = -1, 0
		}
		n, err := lr.r.Read(lr.buf[lr.end:])
		if n < 0 || n > len(lr.buf)-lr.end {
			lr.err = errors.New("reader returned an invalid count")
			continue
		}
		lr.end += n
		switch {
		case err != nil:
			lr.err = err
		case n == 0:
			if lr.empty++; lr.empty > 100 {
				lr.err = io.ErrNoProgress
			}
		default:
			lr.empty = 0
		}
	}
}

// cutPoint chooses where to cut MaxLineLength bytes that hold no newline:
// just before the last final status line that starts in its final 4 KiB,
// or that starts in its last few bytes and is cut short by the end, so
// that a final line glued to a huge line comes out whole in the next
// piece; else at the end.
func cutPoint(b []byte) int {
	from := max(len(b)-4096, 1)
	if i := lastFinalStart(b[from:]); i >= 0 {
		return from + i
	}
	for k := max(len(b)-len(warningPrefix)+1, 1); k < len(b); k++ {
		if isPrefixOf(b[k:], errorPrefix) || isPrefixOf(b[k:], warningPrefix) {
			return k
		}
	}
	return len(b)
}

const (
	errorPrefix   = "rsync error: "
	warningPrefix = "rsync warning: "
)

// lastFinalStart returns where the last "rsync error: " or "rsync warning: "
// in b starts, or -1.
func lastFinalStart(b []byte) int {
	return max(bytes.LastIndex(b, []byte(errorPrefix)), bytes.LastIndex(b, []byte(warningPrefix)))
}

// isPrefixOf reports whether b is the start of s.
func isPrefixOf(b []byte, s string) bool {
	return len(b) <= len(s) && string(b) == s[:len(b)]
}

// parser holds the state of one Parse.
type parser struct {
	res      *Result
	errBytes int  // bytes of paths and messages kept in res.FileErrors
	inCygwin bool // inside the cygwin warning block
	inList   bool // between a file-list header and the "sent" line
	complete bool // the last meaningful line was "total size is ..."
	last     finalLine
	local    finalLine // the last final line from role sender or client
	indented bool      // the current segment started with white space
	cont     bool      // the current piece continues an over-long line
	inPS     bool      // inside PowerShell's decoration of a stderr line
	// unreadable holds the indexes in res.FileErrors of the first
	// MaxUnreadableDirs opendir failures, which deleting lines are
	// checked against (see Result.DeletedUnreadable).
	unreadable []int
}

// finalLine is what an "rsync error|warning: ... (code N) ... [role=version]"
// line says.
type finalLine struct {
	seen          bool
	code          int
	line          int
	role, version string
}

// line handles one line (or piece of an over-long line) without its '\n'.
// --progress separates its updates with '\r'; every '\r'-separated segment
// is handled on its own, so an error written between two updates is kept.
func (p *parser) line(b []byte) {
	for {
		i := bytes.IndexByte(b, '\r')
		if i < 0 {
			p.segment(b)
			return
		}
		p.segment(b[:i])
		b = b[i+1:]
	}
}

// segment handles one stretch of text with no '\r' or '\n' in it.
func (p *parser) segment(s []byte) {
	if len(s) > 0 && plainFirst[s[0]] && s[len(s)-1] > ' ' {
		// The common case, decided without a call: an ordinary line, such
		// as a file of the list. It is what segmentSlow does with it: no
		// white space to trim, not indented, not a line classify knows.
		p.indented, p.inCygwin, p.inPS, p.complete = false, false, false, false
		if p.inList && !p.cont {
			p.res.FilesListed++
		}
		return
	}
	p.segmentSlow(s)
}

// plainFirst marks the bytes no line that segmentSlow or classify
// recognises starts with, nor white space: a line that starts with one and
// ends in a printable byte is an ordinary line.
var plainFirst = func() (t [256]bool) {
	for c := range t {
		t[c] = true
	}
	for _, c := range []byte("rbstdfcWECFA+i[NLMT \t") {
		t[c] = false
	}
	return t
}()

// segmentSlow is segment for every line: it trims the line and looks at
// what it says.
func (p *parser) segmentSlow(s []byte) {
	t := trimLeft(s)
	t = trimRight(t)
	if len(t) == 0 {
		return
	}
	p.indented = s[0] == ' ' || s[0] == '\t'
	if p.inCygwin && p.indented {
		p.noise(NoiseCygwin)
		return
	}
	p.inCygwin = false
	if p.inPS && t[0] != '+' && !hasPrefix(t, "At line:") {
		p.inPS = false
	}
	if t[0] == 'r' && p.final(t) {
		return
	}
	p.complete = false
	if p.classify(t) {
		return
	}
	if p.inList && !p.indented && !p.cont {
		p.res.FilesListed++
	}
}

// classify handles a meaningful line that is not a final status line and
// reports whether it recognised it. Only cheap prefix checks run here; the
// first byte picks the candidates.
func (p *parser) classify(t []byte) bool {
	switch t[0] {
	case 'r':
		switch {
		case hasPrefix(t, "rsync: "):
			p.message(t, t[len("rsync: "):])
			return true
		case hasPrefix(t, "rsync.exe : "):
			// PowerShell's rendering of the first line rsync wrote to stderr.
			p.segment(t[len("rsync.exe : "):])
			return true
		case hasPrefix(t, "receiving incremental file list"), hasPrefix(t, "receiving file list ..."):
			p.inList = true
			return true
		case hasPrefix(t, "rsync error: "), hasPrefix(t, "rsync warning: "):
			return true // no "(code N)": a fatal message, not a status
		}
	case 'b':
		if hasPrefix(t, "building file list ...") {
			p.inList = true
			// 2.6.9 prints an error raised while building the list on the
			// same line: "building file list ... rsync: opendir ...".
			if rest := trimLeft(t[len("building file list ..."):]); len(rest) > 0 && !hasPrefix(rest, "done") {
				p.segment(rest)
			}
			return true
		}
	case 's':
		switch {
		case hasPrefix(t, "sent "):
			p.sent(t)
			return true
		case hasPrefix(t, "sending incremental file list"):
			p.inList = true
			return true
		case hasPrefix(t, "ssh: "):
			return true // "ssh: connect to host ...": a fatal message
		case hasPrefix(t, "skipping non-regular file "):
			return true
		}
	case 't':
		if hasPrefix(t, "total size is ") {
			p.total(t)
			return true
		}
	case 'd':
		switch {
		case hasPrefix(t, "deleting "):
			p.res.Deletions++
			if p.underUnreadable(t[len("deleting "):]) {
				p.res.DeletedUnreadable++
			}
			return true
		case hasPrefix(t, "directory has vanished: "):
			p.fileError(KindVanished, unquote(t[len("directory has vanished: "):]), t)
			return true
		case string(t) == "done":
			return true
		}
	case 'f':
		if hasPrefix(t, "file has vanished: ") {
			p.fileError(KindVanished, unquote(t[len("file has vanished: "):]), t)
			return true
		}
	case 'c':
		switch {
		case hasPrefix(t, "cannot delete non-empty directory: "):
			p.fileError(KindDirNotEmpty, t[len("cannot delete non-empty directory: "):], t)
			return true
		case hasPrefix(t, "created directory "):
			return true
		case hasPrefix(t, "cygwin warning:"):
			p.inCygwin = true
			p.noise(NoiseCygwin)
			return true
		}
	case 'W':
		switch {
		case hasPrefix(t, "WARNING: "):
			return p.verification(t, t[len("WARNING: "):])
		case hasPrefix(t, "Warning: Permanently added "):
			p.noise(NoiseSSH)
			return true
		}
	case 'E':
		if hasPrefix(t, "ERROR: ") {
			return p.verification(t, t[len("ERROR: "):])
		}
	case 'C':
		if hasPrefix(t, "Could not create directory '") {
			p.noise(NoiseSSH)
			return true
		}
	case 'F':
		if hasPrefix(t, "Failed to add the host to the list of known hosts") {
			p.noise(NoiseSSH)
			return true
		}
	case 'A':
		if hasPrefix(t, "At line:") && !p.indented {
			p.inPS = true
			p.noise(NoisePowerShell)
			return true
		}
	case '+':
		if p.inPS && hasPrefix(t, "+ ") {
			p.noise(NoisePowerShell)
			return true
		}
	case 'i':
		// 2.6.9 and 3.0.0-3.0.6 print the timeout without a role.
		return hasPrefix(t, "io timeout after ")
	case '[':
		// "[sender] io timeout ...", -vv's "[sender] hiding file ...".
		i := bytes.IndexByte(t, ']')
		return i > 0 && i < 20 && i+1 < len(t) && t[i+1] == ' '
	case 'N', 'L', 'M', 'T':
		// The --stats block: "Number of files: ...", "Total file size: ...".
		return hasPrefix(t, "Number of ") || hasPrefix(t, "Total ") || hasPrefix(t, "Literal data: ") ||
			hasPrefix(t, "Matched data: ")
	}
	return false
}

func (p *parser) noise(kind string) {
	if p.res.Noise == nil {
		p.res.Noise = make(map[string]int, 2)
	}
	p.res.Noise[kind]++
}

// final handles "rsync error: NAME (code N) at FILE(LINE) [ROLE=VERSION]"
// and the "rsync warning: ..." form, and reports whether t was one.
// FILE may be a full build path and the [ROLE=VERSION] part may be cut.
func (p *parser) final(t []byte) bool {
	var rest []byte
	switch {
	case hasPrefix(t, errorPrefix):
		rest = t[len(errorPrefix):]
	case hasPrefix(t, warningPrefix):
		rest = t[len(warningPrefix):]
	default:
		return false
	}
	i := bytes.LastIndex(rest, []byte(" (code "))
	if i < 0 {
		return false
	}
	num := rest[i+len(" (code "):]
	code, n := 0, 0
	for n < len(num) && n < 9 && num[n] >= '0' && num[n] <= '9' {
		code = code*10 + int(num[n]-'0')
		n++
	}
	if n == 0 || n >= len(num) || num[n] != ')' {
		return false
	}
	var role, version []byte
	if tail := num[n+1:]; len(tail) > 0 && tail[len(tail)-1] == ']' {
		if k := bytes.LastIndexByte(tail, '['); k >= 0 {
			inner := tail[k+1 : len(tail)-1]
			if eq := bytes.IndexByte(inner, '='); eq >= 0 {
				role, version = inner[:eq], inner[eq+1:]
			}
		}
	}
	p.last.set(code, p.res.Lines, role, version)
	if string(role) == "sender" || string(role) == "client" {
		p.local.set(code, p.res.Lines, role, version)
	}
	return true
}

// set records a final line, reusing the strings it already holds so that
// repeated lines do not allocate.
func (f *finalLine) set(code, line int, role, version []byte) {
	f.seen, f.code, f.line = true, code, line
	if f.role != string(role) {
		f.role = clean(role, 64)
	}
	if f.version != string(version) {
		f.version = clean(version, 64)
	}
}

// sent handles "sent X bytes  received Y bytes  Z bytes/sec".
func (p *parser) sent(t []byte) {
	p.inList = false
	var f [10][]byte
	n := fields(t, f[:])
	if n < 8 || string(f[2]) != "bytes" || string(f[3]) != "received" || string(f[5]) != "bytes" {
		return
	}
	if v, ok := parseNumber(f[1]); ok {
		p.res.SentBytes = toInt64(v)
	}
	if v, ok := parseNumber(f[4]); ok {
		p.res.ReceivedBytes = toInt64(v)
	}
	if v, ok := parseNumber(f[6]); ok {
		p.res.BytesPerSec = v
	} else {
		p.res.BytesPerSec = 0 // UNKNOWN
	}
}

// total handles "total size is N  speedup is M" with an optional
// " (DRY RUN)" or " (BATCH ONLY)". It is the completion line.
func (p *parser) total(t []byte) {
	p.inList = false
	var f [10][]byte
	n := fields(t, f[:])
	if n < 6 || string(f[4]) != "speedup" || string(f[5]) != "is" {
		return
	}
	if v, ok := parseNumber(f[3]); ok {
		p.res.TotalSize = toInt64(v)
	}
	if n > 6 {
		if v, ok := parseNumber(f[6]); ok {
			p.res.Speedup = v
		}
	}
	if bytes.Contains(t, []byte("(DRY RUN)")) {
		p.res.DryRun = true
	}
	p.complete = true
}

// fileMessage is one per-file message that starts with "rsync: ".
type fileMessage struct {
	prefix string
	kind   Kind
}

// fileMessages are tried in order after "rsync: " and an optional
// "[role] ". The path follows the prefix, in double quotes unless the
// prefix ends in '('.
var fileMessages = [...]fileMessage{
	{"send_files failed to open ", KindOpenFailed},
	{"read errors mapping ", KindReadError},
	{"opendir ", KindOpendir},
	{"link_stat ", KindLinkStat},
	{"readlink_stat(", KindLinkStat},
	{"change_dir \"", KindChangeDir},
	{"delete_file: ", KindDelete},
	{"failed to set times on ", KindSetTimes},
	{"failed to set permissions on ", KindSetPerms},
	{"mkstemp ", KindMkstemp},
	{"rename failed for ", KindRename},
	{"rename ", KindRename},
	{"recv_generator: mkdir ", KindMkdir},
	{"write failed on ", KindWriteFailed},
}

// message handles a line that starts with "rsync: "; rest is what follows.
func (p *parser) message(t, rest []byte) {
	if len(rest) > 0 && rest[0] == '[' {
		if i := bytes.IndexByte(rest, ']'); i > 0 && i < 20 && i+1 < len(rest) && rest[i+1] == ' ' {
			rest = rest[i+2:]
		}
	}
	for _, m := range fileMessages {
		if !hasPrefix(rest, m.prefix) {
			continue
		}
		arg := rest[len(m.prefix):]
		if m.prefix == "change_dir \"" {
			arg = rest[len(m.prefix)-1:]
		}
		var path []byte
		switch {
		case m.kind == KindDelete:
			path = deletePath(arg)
		case m.prefix == "rename ":
			// rename "D/.name.XXXXXX" -> "name": the file is the target.
			if i := bytes.Index(arg, []byte(`" -> "`)); i >= 0 {
				path = unquote(arg[i+len(`" -> `):])
			} else {
				path = unquote(arg)
			}
		case m.prefix[len(m.prefix)-1] == '(':
			path = parenPath(arg)
		default:
			path = unquote(arg)
		}
		p.fileError(m.kind, path, t)
		return
	}
	// An unfamiliar message about a quoted path that ends in an errno is
	// most likely a per-file error too. The destination's own mkdir and
	// change_dir#N are fatal and come with their own final code.
	if q := bytes.IndexByte(rest, '"'); q >= 0 && endsWithErrno(rest) &&
		!hasPrefix(rest, "mkdir ") && !hasPrefix(rest, "change_dir#") {
		p.fileError(KindOther, unquote(rest[q:]), t)
	}
}

// verification handles "WARNING: P failed verification -- update
// discarded (will try again)." and its "ERROR: " form; rest follows the
// prefix.
func (p *parser) verification(t, rest []byte) bool {
	i := bytes.Index(rest, []byte(" failed verification"))
	if i < 0 {
		return false
	}
	p.fileError(KindVerification, rest[:i], t)
	return true
}

// fileError records one file error, or counts it in Dropped when
// FileErrors is full.
func (p *parser) fileError(kind Kind, path, msg []byte) {
	r := p.res
	if len(r.FileErrors) >= MaxFileErrors || p.errBytes >= MaxFileErrorBytes {
		if r.Dropped == nil {
			r.Dropped = make(map[Kind]int)
		}
		r.Dropped[kind]++
		return
	}
	fe := FileError{
		Line:    r.Lines,
		Kind:    kind,
		Path:    clean(unescape(path), MaxPathLen),
		Message: clean(msg, MaxMessageLen),
	}
	p.errBytes += len(fe.Path) + len(fe.Message)
	r.FileErrors = append(r.FileErrors, fe)
	if kind == KindOpendir && len(p.unreadable) < MaxUnreadableDirs {
		p.unreadable = append(p.unreadable, len(r.FileErrors)-1)
	}
}

// underUnreadable reports whether the path of a deleting line lies under a
// directory whose opendir failed earlier in the run. rsync prints the
// opendir path with the leading "/" of an absolute -R source and the
// deleted path without it, so both are compared without it. The deleted
// path is compared as printed (with \#ooo escapes), so a name that rsync
// escapes may be missed: the warning then undercounts, it never invents a
// deletion.
func (p *parser) underUnreadable(del []byte) bool {
	del = bytes.TrimPrefix(del, []byte("/"))
	for _, i := range p.unreadable {
		dir := strings.TrimPrefix(p.res.FileErrors[i].Path, "/")
		dir = strings.TrimSuffix(dir, "/")
		if dir == "" {
			continue
		}
		if len(del) > len(dir) && del[len(dir)] == '/' && string(del[:len(dir)]) == dir {
			return true
		}
	}
	return false
}

// finish settles the code and the status once the input has ended.
func (p *parser) finish() {
	r := p.res
	f := p.local
	if !f.seen {
		f = p.last
	}
	switch {
	case f.seen:
		r.Code, r.CodeLine, r.Role, r.RsyncVersion = f.code, f.line, f.role, f.version
	case p.complete:
		r.Code = 0
	default:
		r.Code = CodeMissing
	}
	r.Complete = p.complete
	judge(r, Facts{})
}

// unquote returns the text between a leading '"' and the last '"'; rsync
// does not escape quotes inside names, so the last one closes. Text with
// no leading quote is returned up to ": " or " failed", whichever is first.
func unquote(b []byte) []byte {
	if len(b) > 0 && b[0] == '"' {
		if j := bytes.LastIndexByte(b, '"'); j > 0 {
			return b[1:j]
		}
		return b[1:]
	}
	end := len(b)
	if i := bytes.Index(b, []byte(": ")); i >= 0 {
		end = i
	}
	if i := bytes.Index(b[:end], []byte(" failed")); i >= 0 {
		end = i
	}
	return b[:end]
}

// parenPath returns the name in "NAME) failed: ...".
func parenPath(b []byte) []byte {
	if i := bytes.LastIndex(b, []byte(") failed")); i >= 0 {
		b = b[:i]
	} else if i := bytes.LastIndexByte(b, ')'); i >= 0 {
		b = b[:i]
	}
	// readlink_stat quotes the name inside the parentheses.
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		b = b[1 : len(b)-1]
	}
	return b
}

// deletePath returns the path of "unlink(F) failed", "rmdir(F) failed"
// (3.x) or `unlink "F" failed` (2.6.9).
func deletePath(b []byte) []byte {
	i := 0
	for i < len(b) && b[i] >= 'a' && b[i] <= 'z' {
		i++
	}
	if i < len(b) && b[i] == '(' {
		return parenPath(b[i+1:])
	}
	return unquote(trimLeft(b[i:]))
}

// endsWithErrno reports whether b ends in "(N)" with N a number.
func endsWithErrno(b []byte) bool {
	if len(b) < 3 || b[len(b)-1] != ')' {
		return false
	}
	i := len(b) - 2
	for i >= 0 && b[i] >= '0' && b[i] <= '9' {
		i--
	}
	return i >= 0 && i < len(b)-2 && b[i] == '('
}

// unescape decodes rsync's \#ooo escapes (three octal digits).
func unescape(b []byte) []byte {
	if bytes.Index(b, []byte(`\#`)) < 0 {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+4 < len(b) && b[i+1] == '#' && isOctal(b[i+2]) && isOctal(b[i+3]) && isOctal(b[i+4]) {
			v := int(b[i+2]-'0')<<6 | int(b[i+3]-'0')<<3 | int(b[i+4]-'0')
			if v <= 0xff {
				out = append(out, byte(v))
				i += 4
				continue
			}
		}
		out = append(out, b[i])
	}
	return out
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// clean turns bytes from the input into a string fit for JSON and SQL:
// at most max bytes, valid UTF-8, no NUL.
func clean(b []byte, max int) string {
	if len(b) > max {
		b = b[:max]
	}
	s := strings.ToValidUTF8(string(b), "\uFFFD")
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	return s
}

func hasPrefix(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == prefix
}

func trimLeft(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	return b
}

// trimRight removes white space and the NULs some Windows tools pad with.
func trimRight(b []byte) []byte {
	for len(b) > 0 {
		switch b[len(b)-1] {
		case ' ', '\t', 0, '\f', '\v':
			b = b[:len(b)-1]
			continue
		}
		break
	}
	return b
}

// fields splits b at runs of spaces into f and returns how many it found;
// words past len(f) are dropped.
func fields(b []byte, f [][]byte) int {
	n := 0
	for len(b) > 0 && n < len(f) {
		b = trimLeft(b)
		if len(b) == 0 {
			break
		}
		i := bytes.IndexByte(b, ' ')
		if i < 0 {
			i = len(b)
		}
		f[n] = b[:i]
		n++
		b = b[i:]
	}
	return n
}
