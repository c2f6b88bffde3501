package parser

import (
	"bytes"
	"reflect"
	"testing"
)

// FuzzParse checks that no input makes Parse panic or keep more than its
// limits, that a final code line followed by garbage is never lost, and that
// ParseBytes gives what Parse gives, with or without ordinaryLines' loop.
func FuzzParse(f *testing.F) {
	f.Add([]byte("sending incremental file list\na\n\n"+sentLine+totalLine), []byte("\n"))
	f.Add([]byte(`rsync: [sender] send_files failed to open "/E/a\#303.pst": Permission denied (13)`+"\n"+totalLine+code23), []byte("garbage\r\x00\xff\n"))
	f.Add([]byte("building file list ... rsync: opendir \"/x\" failed: Permission denied (13)\ndone\n"), []byte("rsync: x"))
	f.Add(utf16le("\r\nsent 1 bytes  received 2 bytes  3,00 bytes/sec\r\ntotal size is 1.234  speedup is 0,98\r\n", true), []byte{0xff, 0xfe, 0, 0xd8})
	f.Add([]byte("cygwin warning:\n  MS-DOS style path detected: c:\\x\n"), []byte("  indented\n"))
	f.Add([]byte("\xef\xbb\xbfrsync error: x (code 99999999999) at y(1) [a=b]\n"), []byte("rsync warning: (code 1"))
	f.Add([]byte("sending incremental file list\n/E/a\n/E/b \n/E/c\n\n/E/d\rx\n  e\n/E/f\n"), []byte("/E/g\ndeleting E/h\n/E/i"))
	f.Fuzz(func(t *testing.T, valid, garbage []byte) {
		whole := append(append([]byte(nil), valid...), garbage...)
		r, err := Parse(bytes.NewReader(whole))
		if err != nil || r == nil {
			t.Fatalf("Parse: %v, %v", r, err)
		}
		checkBounds(t, r)
		if in := ParseBytes(whole); !reflect.DeepEqual(in, r) {
			t.Fatalf("ParseBytes and Parse disagree:\n%+v\n%+v", in, r)
		}
		if slow := parseSlowLinesOnly(whole); !reflect.DeepEqual(slow, r) {
			t.Fatalf("Parse with and without ordinaryLines disagree:\n%+v\n%+v", slow, r)
		}

		// A final line, then the garbage as whole lines after it.
		if bytes.Contains(garbage, []byte("(code ")) {
			return // the garbage may carry a final line of its own
		}
		in := []byte("sending incremental file list\n" + code23)
		in = append(in, '\n')
		in = append(in, garbage...)
		r, err = Parse(bytes.NewReader(in))
		if err != nil {
			t.Fatal(err)
		}
		if r.Code != 23 || r.RsyncVersion != "3.2.7" {
			t.Errorf("code %d version %q after garbage %q; want 23, 3.2.7", r.Code, r.RsyncVersion, garbage)
		}
		checkBounds(t, r)
	})
}

func checkBounds(t *testing.T, r *Result) {
	t.Helper()
	if len(r.FileErrors) > MaxFileErrors {
		t.Errorf("%d file errors kept, limit %d", len(r.FileErrors), MaxFileErrors)
	}
	for _, fe := range r.FileErrors {
		if len(fe.Path) > MaxPathLen*3 || len(fe.Message) > MaxMessageLen*3 { // *3: U+FFFD for each bad byte
			t.Errorf("file error too big: path %d, message %d bytes", len(fe.Path), len(fe.Message))
		}
	}
	if len(r.Noise) > 3 || len(r.Dropped) > 32 || len(r.Role) > 64*3 || len(r.RsyncVersion) > 64*3 {
		t.Errorf("result grew: noise %v dropped %v role %d version %d", r.Noise, r.Dropped, len(r.Role), len(r.RsyncVersion))
	}
	if r.Status != Verdict(r.Code, r.FileErrors) && r.Dropped == nil {
		t.Errorf("status %q, Verdict says %q", r.Status, Verdict(r.Code, r.FileErrors))
	}
}

// FuzzSegmentFastPath checks that segment's shortcut for ordinary lines
// leaves the parser exactly as segmentSlow, the full handling, does, in
// every state the shortcut touches.
func FuzzSegmentFastPath(f *testing.F) {
	for _, s := range []string{"/cygdrive/E/shares/a.doc", "x ", "x\x00", "+ y", "At line:1", "rsync: x", "  indented", "Number of files: 1", "0"} {
		f.Add([]byte(s), true, false, false, false)
		f.Add([]byte(s), false, true, true, true)
	}
	f.Fuzz(func(t *testing.T, line []byte, inList, cont, inCygwin, inPS bool) {
		if bytes.ContainsAny(line, "\r\n") {
			return // segment is never given those
		}
		state := func() *parser {
			return &parser{res: &Result{FileErrors: []FileError{}}, inList: inList, cont: cont, inCygwin: inCygwin, inPS: inPS, complete: true, indented: true}
		}
		fast, slow := state(), state()
		fast.segment(line)
		slow.segmentSlow(line)
		if !reflect.DeepEqual(fast, slow) {
			t.Fatalf("segment(%q) left %+v %+v, segmentSlow %+v %+v", line, *fast, *fast.res, *slow, *slow.res)
		}
	})
}
