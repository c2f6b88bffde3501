package parser

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	r io.Reader
	n int
}

func (c chunkReader) Read(b []byte) (int, error) { return c.r.Read(b[:min(len(b), c.n)]) }

// TestResultDoesNotDependOnHowReadsSplitTheInput parses every real log in
// testdata, and a few built to hit '\r' and over-long lines, whole and in
// small reads and by ParseBytes (in place, no reads): the line reader's fast path (a whole line in the buffer)
// and its slow one (a line split across reads) must agree.
func TestResultDoesNotDependOnHowReadsSplitTheInput(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "testdata", "rsync", "*", "stats.out"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata logs: %v", err)
	}
	inputs := map[string][]byte{
		"progress updates with an error between them":  []byte("sending incremental file list\na.pst\n  1,024  50%\r  2,048 100%\rrsync: read errors mapping \"/E/a.pst\": Permission denied (13)\r\n" + sentLine + totalLine + code23),
		"an over-long line with a final line glued on": []byte("sending incremental file list\n" + strings.Repeat("x", MaxLineLength+100) + code23),
		"carriage returns only":                        []byte("a\rb\rc\r" + sentLine + totalLine + code23),
		"a line longer than the read buffer":           []byte("sending incremental file list\n" + strings.Repeat("y", readBufferSize+MaxLineLength/2) + "\n" + sentLine + totalLine + code23),
		"a UTF-8 byte order mark":                      []byte("\xef\xbb\xbfsending incremental file list\n" + sentLine + totalLine + code23),
		"a byte order mark alone":                      []byte("\xef\xbb\xbf"),
		"half a byte order mark":                       []byte("\xef\xbb"),
		"UTF-16LE":                                     utf16le("sending incremental file list\r\n"+sentLine+totalLine+code23, true),
		"empty":                                        {},
		"'\\r' lines far apart, past the window of one '\\r' search": []byte("sending incremental file list\n" +
			strings.Repeat("/E/a file with a long enough name.doc\n", 3000) + "b.pst\r  1,024 100%\r\n" +
			strings.Repeat("/E/a file with a long enough name.doc\n", 5000) + `rsync: read errors mapping "/E/b.pst": Permission denied (13)` + "\r\n" +
			strings.Repeat("/E/c\n", 20000) + sentLine + totalLine + code23),
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		inputs[filepath.Base(filepath.Dir(f))] = b
	}
	for name, in := range inputs {
		want, err := Parse(bytes.NewReader(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, split := range []struct {
			name string
			r    io.Reader
		}{
			{"one byte", iotest.OneByteReader(bytes.NewReader(in))},
			{"7 bytes", chunkReader{bytes.NewReader(in), 7}},
			{"4097 bytes", chunkReader{bytes.NewReader(in), 4097}},
		} {
			got, err := Parse(split.r)
			if err != nil {
				t.Fatalf("%s in reads of %s: %v", name, split.name, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s in reads of %s:\n got %+v\nwant %+v", name, split.name, got, want)
			}
		}
		if got := ParseBytes(in); !reflect.DeepEqual(got, want) {
			t.Errorf("%s by ParseBytes:\n got %+v\nwant %+v", name, got, want)
		}
		if got := parseSlowLinesOnly(in); !reflect.DeepEqual(got, want) {
			t.Errorf("%s without ordinaryLines:\n got %+v\nwant %+v", name, got, want)
		}
	}
}

// parseSlowLinesOnly is ParseBytes with every line handled by next and
// segment, without ordinaryLines' loop.
func parseSlowLinesOnly(in []byte) *Result {
	slowLinesOnly = true
	defer func() { slowLinesOnly = false }()
	return ParseBytes(in)
}
