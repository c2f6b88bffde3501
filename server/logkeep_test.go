package server

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/backupreport/backupreport/store"
)

func readBack(t *testing.T, l store.RawLog) string {
	t.Helper()
	if l.Compression != store.CompressionS2 {
		t.Errorf("log stored as %q, want %q", l.Compression, store.CompressionS2)
	}
	zr, err := l.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func TestLogKeeperKeepsShortLogsWhole(t *testing.T) {
	k := newLogKeeper(1000)
	in := strings.Repeat("line\n", 150) // 750 bytes: all head
	for _, chunk := range []string{in[:10], in[10:700], in[700:]} {
		k.Write([]byte(chunk))
	}
	l, err := k.finish()
	if err != nil {
		t.Fatal(err)
	}
	if got := readBack(t, l); got != in || l.Truncated || l.OriginalBytes != int64(len(in)) {
		t.Errorf("got %d bytes truncated=%v, want the %d bytes back whole", len(got), l.Truncated, len(in))
	}
}

func TestLogKeeperKeepsHeadAndTailOfLongLogs(t *testing.T) {
	for _, chunk := range []int{1, 7, 100, 5000} {
		k := newLogKeeper(1000) // head 750, tail 250
		var in bytes.Buffer
		for i := 0; in.Len() < 10000; i++ {
			in.WriteString("line " + strings.Repeat("x", i%13) + "\n")
		}
		b := in.Bytes()
		for i := 0; i < len(b); i += chunk {
			end := min(i+chunk, len(b))
			k.Write(b[i:end])
		}
		l, err := k.finish()
		if err != nil {
			t.Fatal(err)
		}
		got := readBack(t, l)
		head, tail := string(b[:750]), string(b[len(b)-250:])
		if !l.Truncated || !strings.HasPrefix(got, head) || !strings.HasSuffix(got, tail) || !strings.Contains(got, "bytes left out here") {
			t.Errorf("chunk %d: stored log lacks head, tail or marker:\n%s", chunk, got)
		}
		if want := len(b) - 1000; !strings.Contains(got, fmt.Sprintf("[backupreport: %d bytes left out", want)) {
			t.Errorf("chunk %d: marker does not say %d bytes were left out", chunk, want)
		}
	}
}
