package server

import (
	"bytes"
	"encoding/binary"
	"io"
	"math/rand"
	"strings"
	"testing"
	"time"
)

// TestOrderedWriterRestoresOrder feeds SFTP-style writes in a shuffled
// order and checks the stream comes out in order.
func TestOrderedWriterRestoresOrder(t *testing.T) {
	var want bytes.Buffer
	for want.Len() < 300<<10 {
		want.WriteString("some rsync output line\n")
	}
	type chunk struct {
		off int64
		b   []byte
	}
	var chunks []chunk
	for off := 0; off < want.Len(); off += 32 << 10 {
		chunks = append(chunks, chunk{int64(off), want.Bytes()[off:min(off+32<<10, want.Len())]})
	}
	rand.New(rand.NewSource(1)).Shuffle(len(chunks), func(i, j int) { chunks[i], chunks[j] = chunks[j], chunks[i] })

	pr, pw := io.Pipe()
	w := newOrderedWriter(pw, func() bool { return false })
	w.open()
	got := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(pr)
		got <- b
		w.done <- nil
	}()
	for _, c := range chunks {
		if n, err := w.WriteAt(c.b, c.off); err != nil || n != len(c.b) {
			t.Fatalf("WriteAt(%d): %d, %v", c.off, n, err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if b := <-got; !bytes.Equal(b, want.Bytes()) {
		t.Errorf("stream differs: got %d bytes, want %d", len(b), want.Len())
	}
	if w.aborted {
		t.Errorf("a complete upload was marked aborted")
	}
}

// TestOrderedWriterBoundsItsBuffer refuses writes that would hold more
// than maxPending bytes, and rewrites of bytes already passed on.
func TestOrderedWriterBoundsItsBuffer(t *testing.T) {
	pr, pw := io.Pipe()
	go io.Copy(io.Discard, pr)
	w := newOrderedWriter(pw, func() bool { return false })
	w.open()
	block := make([]byte, 1<<20)
	var err error
	for off := int64(1 << 20); err == nil && off < 64<<20; off += 1 << 20 {
		_, err = w.WriteAt(block, off) // never at offset 0: the gap is never filled
	}
	if err == nil || w.pendingBytes > maxPending {
		t.Fatalf("pending grew to %d bytes without an error", w.pendingBytes)
	}
	w2 := newOrderedWriter(pw, func() bool { return false })
	w2.open()
	w2.WriteAt([]byte("abc"), 0)
	if _, err := w2.WriteAt([]byte("x"), 1); err == nil {
		t.Errorf("a write going back before the stream position was accepted")
	}
}

// TestOrderedWriterFailsGaps: a file closed with a gap is not whole.
func TestOrderedWriterFailsGaps(t *testing.T) {
	pr, pw := io.Pipe()
	w := newOrderedWriter(pw, func() bool { return false })
	w.open()
	go func() { io.Copy(io.Discard, pr); w.done <- nil }()
	w.WriteAt([]byte("abc"), 0)
	w.WriteAt([]byte("xyz"), 10)
	done := make(chan struct{})
	go func() { w.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hung")
	}
	if w.aborted || w.failure() == nil || !strings.Contains(w.failure().Error(), "bytes 3 to 9 were never written") {
		t.Errorf("a file closed with a gap: aborted=%v, failure %v; want a failure naming the gap", w.aborted, w.failure())
	}
}

// TestNoGroupExchange: PuTTY up to 0.64 fails after a group-exchange offer.
func TestNoGroupExchange(t *testing.T) {
	for _, legacy := range []bool{false, true} {
		a := Algorithms(legacy)
		for _, k := range a.KeyExchanges {
			if bytes.Contains([]byte(k), []byte("group-exchange")) {
				t.Errorf("legacy=%v offers %s", legacy, k)
			}
		}
		has := func(list []string, s string) bool {
			for _, x := range list {
				if x == s {
					return true
				}
			}
			return false
		}
		for _, want := range []struct {
			list []string
			name string
		}{{a.KeyExchanges, "diffie-hellman-group1-sha1"}, {a.Ciphers, "aes128-cbc"}, {a.Ciphers, "3des-cbc"}} {
			if has(want.list, want.name) != legacy {
				t.Errorf("legacy=%v: offers %s = %v", legacy, want.name, !legacy)
			}
		}
	}
}

// sftpPacket frames an SFTP packet: length, type, then body.
func sftpPacket(typ byte, body ...[]byte) []byte {
	var b []byte
	for _, x := range body {
		b = append(b, x...)
	}
	out := binary.BigEndian.AppendUint32(nil, uint32(1+len(b)))
	return append(append(out, typ), b...)
}

func sftpString(s string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(s))), s...)
}
func sftpUint32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// TestOpenMarkerSetsTheReadFlag: every SSH_FXP_OPEN passing through asks
// for reading too, whatever the read sizes; no other byte changes, not
// even in data that looks like an open.
func TestOpenMarkerSetsTheReadFlag(t *testing.T) {
	const write, creat, trunc = 0x02, 0x08, 0x10
	fake := sftpPacket(sshFxpOpen, sftpUint32(9), sftpString("x"), sftpUint32(write), sftpUint32(0))
	var in []byte
	in = append(in, sftpPacket(1, sftpUint32(3))...) // init
	in = append(in, sftpPacket(6, sftpUint32(1), sftpString("1"), make([]byte, 8), sftpString(string(fake)))...)
	openAt := len(in)
	in = append(in, sftpPacket(sshFxpOpen, sftpUint32(2), sftpString("/reports/acme/fs01.out"), sftpUint32(write|creat|trunc), sftpUint32(0))...)
	in = append(in, sftpPacket(sshFxpOpen, sftpUint32(3), sftpString(""), sftpUint32(write), sftpUint32(0))...)
	want := append([]byte(nil), in...)
	want[openAt+4+1+4+4+len("/reports/acme/fs01.out")+3] |= sshFxfRead
	want[len(want)-4-1] |= sshFxfRead // the last open's flags, before its 4 attribute bytes
	for size := 1; size <= len(in); size++ {
		got := append([]byte(nil), in...)
		var m openMarker
		for i := 0; i < len(got); i += size {
			m.scan(got[i:min(i+size, len(got))])
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("reads of %d bytes: got\n%x\nwant\n%x", size, got, want)
		}
	}
}
