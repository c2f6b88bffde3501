package parser

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf16"
)

const (
	sentLine  = "sent 1,234 bytes  received 56 bytes  860.00 bytes/sec\n"
	totalLine = "total size is 1,234  speedup is 0.96\n"
	code23    = "rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1338) [sender=3.2.7]\n"
)

func mustParse(t *testing.T, in string) *Result {
	t.Helper()
	r, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatalf("Parse(%q): %v", in, err)
	}
	return r
}

func TestParseCode(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		code     int
		complete bool
		role     string
	}{
		{"a completed run without a final line is code 0", "sending incremental file list\na\n\n" + sentLine + totalLine, 0, true, ""},
		{"trailing blank and white-space lines keep a run complete", sentLine + totalLine + "\n \t\n\n", 0, true, ""},
		{"a line after the total makes the run incomplete", sentLine + totalLine + "oops\n", CodeMissing, false, ""},
		{"no total line is code -2", "sending incremental file list\na\n", CodeMissing, false, ""},
		{"empty input is code -2", "", CodeMissing, false, ""},
		{"the final line after the total gives the code and keeps completion", sentLine + totalLine + code23, 23, true, "sender"},
		{"a warning line gives code 24", totalLine + "rsync warning: some files vanished before they could be transferred (code 24) at main.c(1338) [sender=3.2.7]\n", 24, true, "sender"},
		{"the local sender line wins over a later remote line",
			"rsync error: error in file IO (code 11) at main.c(576) [receiver=3.0.9]\n" +
				"rsync error: error in rsync protocol data stream (code 12) at io.c(601) [sender=3.0.9]\n" +
				"rsync error: error in file IO (code 11) at main.c(576) [generator=3.0.9]\n", 12, false, "sender"},
		{"the client role counts as local", "rsync error: syntax or usage error (code 1) at main.c(1886) [client=3.2.7]\n" +
			"rsync error: unexplained error (code 255) at io.c(1) [Receiver=3.2.7]\n", 1, false, "client"},
		{"without a local line the last one wins",
			"rsync error: error in file IO (code 11) at main.c(576) [Receiver=3.1.3]\n" +
				"rsync error: error in rsync protocol data stream (code 12) at io.c(285) [generator=3.2.7]\n", 12, false, "generator"},
		{"a full build path is accepted", "rsync error: some files/attrs were not transferred (see previous errors) (code 23) at /usr/src/rsync/rsync-3.0.8/main.c(1052) [sender=3.0.8]\n", 23, false, "sender"},
		{"the old code-23 wording is accepted", "rsync error: some files could not be transferred (code 23) at main.c(977) [sender=2.6.9]\n", 23, false, "sender"},
		{"a final line cut before its role still gives the code", "rsync error: unexplained error (code 255) at io.c(2", 255, false, ""},
		{"a 2.6.9 error on the list line is seen", "building file list ... rsync error: some files could not be transferred (code 23) at main.c(977) [sender=2.6.9]\n", 23, false, "sender"},
		{"a final line after a progress \\r is seen", "   1,024 100%\r" + code23, 23, false, "sender"},
		{"rsync error without a code is not final", "rsync error: something odd\n" + totalLine, 0, true, ""},
		{"CRLF line ends are stripped", strings.ReplaceAll(sentLine+totalLine, "\n", "\r\n"), 0, true, ""},
		{"NUL padding after the total is white space", sentLine + totalLine + "\x00\x00\n", 0, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustParse(t, tt.in)
			if r.Code != tt.code || r.Complete != tt.complete || r.Role != tt.role {
				t.Errorf("Parse(%q) = code %d, complete %v, role %q; want %d, %v, %q", tt.in, r.Code, r.Complete, r.Role, tt.code, tt.complete, tt.role)
			}
		})
	}
}

func TestParseNumbers(t *testing.T) {
	tests := []struct {
		name              string
		in                string
		sent, recv, total int64
		rate, speedup     float64
		dryRun            bool
	}{
		{"plain digits (2.6.9, 3.0)", "sent 1083366 bytes  received 5924 bytes  2178580.00 bytes/sec\ntotal size is 1065138  speedup is 0.98\n", 1083366, 5924, 1065138, 2178580, 0.98, false},
		{"digit grouping (3.1+)", "sent 1,085,454 bytes  received 6,167 bytes  727,747.33 bytes/sec\ntotal size is 1,065,138  speedup is 17,986.62\n", 1085454, 6167, 1065138, 727747.33, 17986.62, false},
		{"German locale (3.2.4+)", "sent 1.085.489 bytes  received 6.167 bytes  2.183.312,00 bytes/sec\ntotal size is 1.065.138  speedup is 0,98\n", 1085489, 6167, 1065138, 2183312, 0.98, false},
		{"-h suffixes", "sent 1.08M bytes  received 5.92K bytes  726.19K bytes/sec\ntotal size is 3.21G  speedup is 2.50\n", 1080000, 5920, 3210000000, 726190, 2.5, false},
		{"-h suffixes in a German locale", "sent 1,08M bytes  received 5,92K bytes  726,19K bytes/sec\ntotal size is 2,00T  speedup is 2,50\n", 1080000, 5920, 2000000000000, 726190, 2.5, false},
		{"UNKNOWN rate and a dry run", "sent 12 bytes  received 3 bytes  UNKNOWN bytes/sec\ntotal size is 99  speedup is 6.60 (DRY RUN)\n", 12, 3, 99, 0, 6.6, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustParse(t, tt.in)
			if r.SentBytes != tt.sent || r.ReceivedBytes != tt.recv || r.TotalSize != tt.total ||
				!near(r.BytesPerSec, tt.rate) || !near(r.Speedup, tt.speedup) || r.DryRun != tt.dryRun {
				t.Errorf("Parse(%q) = sent %d recv %d total %d rate %v speedup %v dry %v; want %d %d %d %v %v %v", tt.in,
					r.SentBytes, r.ReceivedBytes, r.TotalSize, r.BytesPerSec, r.Speedup, r.DryRun,
					tt.sent, tt.recv, tt.total, tt.rate, tt.speedup, tt.dryRun)
			}
		})
	}
}

func near(a, b float64) bool { return a-b < 1e-6 && b-a < 1e-6 }

func TestParseNumber(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"0", 0, true}, {"1,234", 1234, true}, {"1.234", 1234, true}, {"1.234.567", 1234567, true},
		{"12,5", 12.5, true}, {"0.98", 0.98, true}, {"2.183.312,00", 2183312, true}, {"1.5K", 1500, true},
		{"", 0, false}, {"UNKNOWN", 0, false}, {",", 0, false}, {"1,", 0, false}, {"K", 0, false},
		{"99999999999999999999999", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseNumber([]byte(tt.in))
		if ok != tt.ok || (ok && !near(got, tt.want)) {
			t.Errorf("parseNumber(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseFileErrors(t *testing.T) {
	tests := []struct {
		name string
		line string
		kind Kind
		path string
	}{
		{"3.1 open failure", `rsync: send_files failed to open "/E/a b.pst": Permission denied (13)`, KindOpenFailed, "/E/a b.pst"},
		{"3.2 open failure with role", `rsync: [sender] send_files failed to open "/E/a.pst": Device or resource busy (16)`, KindOpenFailed, "/E/a.pst"},
		{"read errors mapping", `rsync: read errors mapping "/E/a.pst": No data available (61)`, KindReadError, "/E/a.pst"},
		{"a vanished file", `file has vanished: "/E/~tmp.doc"`, KindVanished, "/E/~tmp.doc"},
		{"a vanished directory", `directory has vanished: "/E/tmp"`, KindVanished, "/E/tmp"},
		{"opendir", `rsync: opendir "/E/Private" failed: Permission denied (13)`, KindOpendir, "/E/Private"},
		{"link_stat", `rsync: [sender] link_stat "/E/none" failed: No such file or directory (2)`, KindLinkStat, "/E/none"},
		{"readlink_stat", `rsync: readlink_stat("/E/l") failed: Permission denied (13)`, KindLinkStat, "/E/l"},
		{"change_dir", `rsync: change_dir "/E/x" failed: Permission denied (13)`, KindChangeDir, "/E/x"},
		{"delete in parentheses", `rsync: [generator] delete_file: unlink(E/a (1).txt) failed: Permission denied (13)`, KindDelete, "E/a (1).txt"},
		{"delete in 2.6.9 quotes", `rsync: delete_file: unlink "E/a.txt" failed: Permission denied (13)`, KindDelete, "E/a.txt"},
		{"non-empty directory", `cannot delete non-empty directory: E/dir`, KindDirNotEmpty, "E/dir"},
		{"set times", `rsync: failed to set times on "/d/a": Operation not permitted (1)`, KindSetTimes, "/d/a"},
		{"set permissions", `rsync: failed to set permissions on "/d/a": Operation not permitted (1)`, KindSetPerms, "/d/a"},
		{"mkstemp", `rsync: mkstemp "/d/.a.XXXXXX" failed: Permission denied (13)`, KindMkstemp, "/d/.a.XXXXXX"},
		{"rename names the target", `rsync: rename "/d/.a.Xy" -> "E/a": Permission denied (13)`, KindRename, "E/a"},
		{"rename failed for", `rsync: rename failed for "/d/a" (from E/.a.x): Permission denied (13)`, KindRename, "/d/a"},
		{"mkdir", `rsync: recv_generator: mkdir "/d/E" failed: Permission denied (13)`, KindMkdir, "/d/E"},
		{"failed verification", `WARNING: E/a.db failed verification -- update discarded (will try again).`, KindVerification, "E/a.db"},
		{"write failed", `rsync: write failed on "/d/a": No space left on device (28)`, KindWriteFailed, "/d/a"},
		{"an unknown message about a quoted path", `rsync: [sender] frobnicate "/E/a" failed: Weird (77)`, KindOther, "/E/a"},
		{"an escaped name is decoded", `rsync: send_files failed to open "/E/caf\#303\#251 \#012.pst": Permission denied (13)`, KindOpenFailed, "/E/café \n.pst"},
		{"a name with quotes keeps them", `rsync: send_files failed to open "/E/say "hi".txt": Permission denied (13)`, KindOpenFailed, `/E/say "hi".txt`},
		{"a 2.6.9 same-line error", `building file list ... rsync: opendir "/E/p3" failed: Permission denied (13)`, KindOpendir, "/E/p3"},
		{"PowerShell's stderr prefix", `rsync.exe : rsync: send_files failed to open "/E/a.pst": Permission denied (13)`, KindOpenFailed, "/E/a.pst"},
		{"an error between progress updates", "  1,024  50%\r" + `rsync: read errors mapping "/E/a.pst": Permission denied (13)` + "\r 2,048 100%", KindReadError, "/E/a.pst"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustParse(t, "sending incremental file list\n"+tt.line+"\n")
			if len(r.FileErrors) != 1 {
				t.Fatalf("Parse(%q): %d file errors, want 1: %+v", tt.line, len(r.FileErrors), r.FileErrors)
			}
			fe := r.FileErrors[0]
			if fe.Kind != tt.kind || fe.Path != tt.path || fe.Line != 2 {
				t.Errorf("Parse(%q) = line %d kind %q path %q; want line 2 kind %q path %q", tt.line, fe.Line, fe.Kind, fe.Path, tt.kind, tt.path)
			}
		})
	}
}

func TestParseNotErrors(t *testing.T) {
	for _, line := range []string{
		`skipping non-regular file "E/link"`,
		`deleting E/old.txt`,
		`created directory /backup`,
		`cygwin warning:`,
		`  MS-DOS style path detected: C:/x`,
		`Could not create directory '/home/Admin/.ssh'.`,
		`Failed to add the host to the list of known hosts (/home/Admin/.ssh/known_hosts).`,
		`Warning: Permanently added '1.2.3.4' (ECDSA) to the list of known hosts.`,
		`rsync: connection unexpectedly closed (0 bytes received so far) [sender]`,
		`rsync: [Receiver] mkdir "/backup/x" failed: No such file or directory (2)`,
		`rsync: change_dir#3 "/backup/x" failed: No such file or directory (2)`,
		`/E/rsync: a file whose name looks like a message.txt`,
	} {
		r := mustParse(t, "sending incremental file list\n"+line+"\n")
		if len(r.FileErrors) != 0 {
			t.Errorf("Parse(%q): file errors %+v, want none", line, r.FileErrors)
		}
	}
}

func TestParseCounts(t *testing.T) {
	in := "cygwin warning:\n  MS-DOS style path detected: C:/x\n  Preferred POSIX equivalent is: /cygdrive/c/x\n" +
		"Could not create directory '/home/A/.ssh'.\n" +
		"Failed to add the host to the list of known hosts (/home/A/.ssh/known_hosts).\n" +
		"sending incremental file list\n/E/\n/E/a.txt\ndeleting E/b.txt\ndeleting E/c.txt\n" +
		"   1,024 100%  1.00MB/s  0:00:00 (xfr#1, to-chk=0/3)\n\n" + sentLine + totalLine
	r := mustParse(t, in)
	if r.FilesListed != 2 || r.Deletions != 2 || r.Noise[NoiseCygwin] != 3 || r.Noise[NoiseSSH] != 2 || r.Lines != 14 || r.Code != 0 {
		t.Errorf("Parse: listed %d deletions %d noise %v lines %d code %d; want 2, 2, cygwin 3 ssh 2, 14, 0",
			r.FilesListed, r.Deletions, r.Noise, r.Lines, r.Code)
	}
	if r.Bytes != int64(len(in)) {
		t.Errorf("Bytes = %d, want %d", r.Bytes, len(in))
	}
}

func utf16le(s string, bom bool) []byte {
	var b []byte
	if bom {
		b = append(b, 0xff, 0xfe)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, byte(u), byte(u>>8))
	}
	return b
}

func TestParseEncodings(t *testing.T) {
	text := "sending incremental file list\r\n" + `rsync: send_files failed to open "/E/Büro/😀.pst": Permission denied (13)` + "\r\n" +
		strings.ReplaceAll(sentLine+totalLine+code23, "\n", "\r\n")
	tests := []struct {
		name string
		in   []byte
		enc  string
	}{
		{"UTF-16LE with a BOM", utf16le(text, true), "utf-16le"},
		{"UTF-16LE without a BOM", utf16le(text, false), "utf-16le"},
		{"UTF-8 with a BOM", append([]byte{0xef, 0xbb, 0xbf}, text...), "utf-8"},
		{"UTF-8", []byte(text), "utf-8"},
	}
	for _, tt := range tests {
		// Read one byte at a time too, so that code units and surrogate
		// pairs are split across reads.
		for _, oneByte := range []bool{false, true} {
			var r io.Reader = bytes.NewReader(tt.in)
			if oneByte {
				r = iotest.OneByteReader(r)
			}
			res, err := Parse(r)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if res.Encoding != tt.enc || res.Code != 23 || !res.Complete || len(res.FileErrors) != 1 || res.FileErrors[0].Path != "/E/Büro/😀.pst" {
				t.Errorf("%s (one byte reads %v): encoding %q code %d complete %v errors %+v", tt.name, oneByte, res.Encoding, res.Code, res.Complete, res.FileErrors)
			}
		}
	}
}

func TestParseBrokenUTF16(t *testing.T) {
	// A lone high surrogate, a lone low one and an odd last byte.
	in := append(utf16le("a\n", true), 0x00, 0xd8, 'b', 0, 0x00, 0xdc, '\n', 0, 'x')
	res, err := Parse(bytes.NewReader(in))
	if err != nil || res.Lines != 3 {
		t.Errorf("Parse(broken UTF-16) = %d lines, %v; want 3 lines", res.Lines, err)
	}
}

func TestParseLongLines(t *testing.T) {
	long := strings.Repeat("x", 5*MaxLineLength+17)
	tests := []struct {
		name string
		in   string
		code int
	}{
		{"a final line glued to a huge line", "a\n" + long + code23, 23},
		{"a final line after a huge line", "a\n" + long + "\n" + code23, 23},
		{"a final line glued after a huge line of rsync words", "a\n" + strings.Repeat("rsync x", MaxLineLength) + code23, 23},
		{"a huge line cut off at the end", "a\n" + sentLine + totalLine + long, CodeMissing},
		{"a final line before a huge line", code23 + long, 23},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := mustParse(t, tt.in)
			if r.Code != tt.code || r.LongLines != 1 {
				t.Errorf("code %d long lines %d; want %d, 1", r.Code, r.LongLines, tt.code)
			}
		})
	}
}

func TestParseFinalLineAcrossTheCut(t *testing.T) {
	// Wherever the final line starts near the end of the first
	// MaxLineLength bytes of a huge line, it must come out whole.
	for off := -40; off <= 5; off++ {
		in := "a\n" + strings.Repeat("x", MaxLineLength+off) + code23
		r := mustParse(t, in)
		if r.Code != 23 || r.Role != "sender" {
			t.Errorf("final line at %d bytes into a huge line: code %d role %q, want 23 sender", MaxLineLength+off, r.Code, r.Role)
		}
	}
}

func TestParseReadError(t *testing.T) {
	boom := errors.New("connection reset")
	in := io.MultiReader(strings.NewReader("a\n"+code23+"b"), iotest.ErrReader(boom))
	r, err := Parse(in)
	if !errors.Is(err, boom) {
		t.Fatalf("Parse: err %v, want %v", err, boom)
	}
	if r == nil || r.Code != 23 || r.Lines != 3 || r.Status != StatusFailed {
		t.Errorf("Parse with a read error: %+v; want the result so far (code 23, 3 lines)", r)
	}
	r, err = Parse(iotest.ErrReader(boom))
	if !errors.Is(err, boom) || r == nil || r.Code != CodeMissing || r.FileErrors == nil {
		t.Errorf("Parse of a failing reader = %+v, %v", r, err)
	}
}

func TestParseBoundsFileErrors(t *testing.T) {
	var b strings.Builder
	for i := 0; i < MaxFileErrors+5; i++ {
		n := 40 // short paths, so that the count is the bound met here
		if i == 0 {
			n = MaxPathLen
		}
		b.WriteString(`rsync: send_files failed to open "/E/` + strings.Repeat("p", n) + `": Permission denied (13)` + "\n")
	}
	b.WriteString(`file has vanished: "/E/x"` + "\n" + totalLine + code23)
	r := mustParse(t, b.String())
	if len(r.FileErrors) != MaxFileErrors || r.Dropped[KindOpenFailed] != 5 || r.Dropped[KindVanished] != 1 {
		t.Fatalf("kept %d, dropped %v; want %d and open_failed 5, vanished 1", len(r.FileErrors), r.Dropped, MaxFileErrors)
	}
	if n := len(r.FileErrors[0].Path); n != MaxPathLen {
		t.Errorf("path kept %d bytes, want %d", n, MaxPathLen)
	}
	if n := len(r.FileErrors[0].Message); n > MaxMessageLen {
		t.Errorf("message kept %d bytes, want at most %d", n, MaxMessageLen)
	}
	r.Apply([]string{"*"})
	if r.Status != StatusFailed {
		t.Errorf("with dropped errors that no exception can cover, status %q, want failed", r.Status)
	}
}

func TestParseStrangeBytes(t *testing.T) {
	in := "\x00\xff\xfe\r\r\n" + `rsync: send_files failed to open "/E/a` + "\xff\x00" + `.pst": Permission denied (13)` + "\n" + totalLine + code23
	r := mustParse(t, in)
	if r.Code != 23 || len(r.FileErrors) != 1 || r.FileErrors[0].Path != "/E/a\uFFFD\uFFFD.pst" {
		t.Errorf("Parse(%q) = code %d errors %+v", in, r.Code, r.FileErrors)
	}
}

// TestParseNoAllocPerLine checks the promise that an ordinary line costs
// no allocation: parsing 10,000 more file-list lines allocates no more.
func TestParseNoAllocPerLine(t *testing.T) {
	small := makeLog(100)
	big := makeLog(10100)
	allocs := func(in []byte) float64 {
		return testing.AllocsPerRun(20, func() {
			if _, err := Parse(bytes.NewReader(in)); err != nil {
				t.Fatal(err)
			}
		})
	}
	a, b := allocs(small), allocs(big)
	// One allocation of slack: the read buffer comes from a sync.Pool,
	// which the race detector empties at random. An allocation per line
	// would show as thousands.
	if b > a+1 {
		t.Errorf("Parse allocated %v times for 100 lines and %v for 10,100: lines allocate", a, b)
	}
}

// makeLog returns a verbose rsync log listing n files; see writeLog.
func makeLog(n int) []byte {
	var b bytes.Buffer
	writeLog(&b, n)
	return b.Bytes()
}

// writeLog writes a verbose rsync log listing n files, about 90 bytes a
// line, like a customer's nightly run: directory lines, file lines, a
// deletion every 500 files and an unreadable file every 100,000, then the
// summary and a code-23 final line when there were errors.
func writeLog(w io.Writer, n int) error {
	bw := bufio.NewWriterSize(w, 1<<16)
	bw.WriteString("sending incremental file list\n")
	var num [20]byte
	for i := 0; i < n; i++ {
		dir := strconv.AppendInt(num[:0], int64(i/1000*1000), 10)
		switch {
		case i%1000 == 0:
			bw.WriteString("/cygdrive/E/shares/Department/Projects/")
			bw.Write(dir)
			bw.WriteString("/\n")
		case i%500 == 7:
			bw.WriteString("deleting cygdrive/E/shares/Department/Old/report-")
			bw.Write(strconv.AppendInt(num[:0], int64(i), 10))
			bw.WriteString(".docx\n")
		case i%100000 == 99999:
			bw.WriteString(`rsync: [sender] send_files failed to open "/cygdrive/E/shares/Department/Mail/user`)
			bw.Write(strconv.AppendInt(num[:0], int64(i), 10))
			bw.WriteString(`.pst": Permission denied (13)` + "\n")
		default:
			bw.WriteString("/cygdrive/E/shares/Department/Projects/")
			bw.Write(dir)
			bw.WriteString("/Quarterly report ")
			bw.Write(strconv.AppendInt(num[:0], int64(i), 10))
			bw.WriteString(" final version.xlsx\n")
		}
	}
	bw.WriteString("\n" + sentLine + totalLine)
	if n >= 100000 {
		bw.WriteString(code23)
	}
	return bw.Flush()
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var d []byte
	for ; i > 0; i /= 10 {
		d = append([]byte{byte('0' + i%10)}, d...)
	}
	return string(d)
}

// TestFileErrorsBoundedInBytes: file errors with the longest paths stop
// being kept once their bytes reach MaxFileErrorBytes, and are counted.
func TestFileErrorsBoundedInBytes(t *testing.T) {
	var b strings.Builder
	long := strings.Repeat("d", MaxPathLen)
	const n = 2000
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "rsync: send_files failed to open \"/cygdrive/e/%s%d\": Permission denied (13)\n", long, i)
	}
	b.WriteString("rsync error: some files/attrs were not transferred (see previous errors) (code 23) at main.c(1338) [sender=3.2.7]\n")
	r, err := Parse(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	kept := 0
	for _, fe := range r.FileErrors {
		kept += len(fe.Path) + len(fe.Message)
	}
	if kept > MaxFileErrorBytes+MaxPathLen+MaxMessageLen || len(r.FileErrors)+r.Dropped[KindOpenFailed] != n || r.Dropped[KindOpenFailed] == 0 {
		t.Errorf("kept %d errors (%d bytes), dropped %v; want at most %d bytes and %d in all", len(r.FileErrors), kept, r.Dropped, MaxFileErrorBytes, n)
	}
	if r.Code != 23 || r.Status != StatusFailed {
		t.Errorf("code %d status %s, want 23 failed", r.Code, r.Status)
	}
}
