package server

import (
	"bytes"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"
)

// benchServer starts an in-process server with one customer "acme" and
// returns a client connection authenticated with its key.
func benchServer(b *testing.B) *gossh.Client {
	_, _, client := testServer(b, Config{AutoRegister: true})
	return client
}

// report13KB is a real-looking 13 KB code-23 report, the size the issue names.
func report13KB(b *testing.B) []byte {
	base, err := os.ReadFile(filepath.Join("..", "testdata", "rsync", "hand-cygwin-ssh-code23", "stats.out"))
	if err != nil {
		b.Fatal(err)
	}
	head, tail, _ := bytes.Cut(base, []byte("sending incremental file list\n"))
	var r bytes.Buffer
	r.Write(head)
	r.WriteString("sending incremental file list\n")
	for i := 0; r.Len() < 13230-len(tail); i++ {
		r.WriteString("/cygdrive/E/shares/Projects/Client files/2026/report-")
		r.WriteString(time.Duration(i).String())
		r.WriteString(".docx\n")
	}
	r.Write(tail)
	return r.Bytes()
}

// BenchmarkEOFToAck measures the time from the client's EOF to the exit
// status, i.e. parse tail + commit + receipt, for a 13 KB report over one
// SSH connection. It prints the median and the 95th percentile.
func BenchmarkEOFToAck(b *testing.B) {
	client := benchServer(b)
	rep := report13KB(b)
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		sess, err := client.NewSession()
		if err != nil {
			b.Fatal(err)
		}
		stdin, _ := sess.StdinPipe()
		if err := sess.Start("cat > /reports/acme/exch01.out"); err != nil {
			b.Fatal(err)
		}
		stdin.Write(rep)
		t0 := time.Now()
		stdin.Close()
		if err := sess.Wait(); err != nil {
			b.Fatalf("upload: %v", err)
		}
		lat = append(lat, time.Since(t0))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "ms-eof-to-ack-p50")
	b.ReportMetric(float64(lat[len(lat)*95/100].Microseconds())/1000, "ms-eof-to-ack-p95")
	b.ReportMetric(float64(len(rep)), "report-bytes")
}
