package report

import (
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/backupreport/backupreport/store/metrics"
)

func TestCapListenerClosesConnectionsBeyondItsCap(t *testing.T) {
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reg := metrics.NewRegistry()
	ln := CapListener(raw, 1, slog.New(slog.NewTextHandler(io.Discard, nil)), reg)
	defer ln.Close()
	accepted := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	first, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	held := <-accepted
	second, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	second.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := second.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("the connection beyond the cap: read %v, want EOF (closed at accept)", err)
	}
	// Closing the one held frees its place.
	held.Close()
	third, err := net.Dial("tcp", raw.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	select {
	case c := <-accepted:
		c.Close()
	case <-time.After(10 * time.Second):
		t.Fatal("a connection after the held one closed was not accepted")
	}
	mfs := reg.Gather()
	if len(mfs) != 1 || mfs[0].Name != "backupreport_http_connections_refused_total" || mfs[0].Samples[0].Value != 1 {
		t.Errorf("metrics = %v, want the refusal counted once", mfs)
	}
}
