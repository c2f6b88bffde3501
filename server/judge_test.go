package server

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gossh "golang.org/x/crypto/ssh"

	"github.com/backupreport/backupreport/parser"
	"github.com/backupreport/backupreport/store"
	"github.com/backupreport/backupreport/store/reeval"
)

// cutCase is one upload of the proof below: a real log, whole or cut.
type cutCase struct {
	name string // server name: the log's and how it was cut
	body []byte
	end  parser.End
}

// cutCases returns every log of testdata/rsync whole, cut just after its
// last "(code N)" line, and cut half-way; the cut ones end as interrupted
// uploads.
func cutCases(t *testing.T) []cutCase {
	t.Helper()
	dirs, err := filepath.Glob(filepath.Join("..", "testdata", "rsync", "*"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no test logs: %v", err)
	}
	var out []cutCase
	for i, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "stats.out"))
		if err != nil {
			t.Fatal(err)
		}
		name := fmt.Sprintf("log%02d", i)
		out = append(out, cutCase{name + "-whole", b, parser.EndComplete})
		if k := bytes.LastIndex(b, []byte("(code ")); k >= 0 {
			cut := len(b)
			if nl := bytes.IndexByte(b[k:], '\n'); nl >= 0 {
				cut = k + nl + 1
			}
			out = append(out, cutCase{name + "-after-code", b[:cut], parser.EndInterrupted})
		}
		if len(b) > 1 {
			out = append(out, cutCase{name + "-half", b[:len(b)/2], parser.EndInterrupted})
		}
	}
	return out
}

// TestReevaluatingUploadsChangesNothing is the proof that the upload and
// re-evaluation judge alike: every real log is uploaded over SSH whole, cut
// off just after rsync's final code line and cut off half-way (the client's
// connection dies), with exceptions in force; each stored verdict is what
// parser.Judge says of the log with those facts; then re-evaluating
// everything changes no verdict and rewrites no row.
func TestReevaluatingUploadsChangesNothing(t *testing.T) {
	ts := startTestServer(t, Config{})
	ctx := context.Background()
	patterns := []string{"*.PST", "*/finance/company.qbw", "*/Outlook/*"}
	for _, p := range patterns {
		if _, err := ts.db.AddException(ctx, "test", "global", p, ""); err != nil {
			t.Fatal(err)
		}
	}
	cases := cutCases(t)
	c := ts.dial(t)
	for _, k := range cases {
		if k.end == parser.EndComplete {
			if stderr, err := upload(c, k.name, func(w io.Writer) { w.Write(k.body) }); err != nil {
				t.Fatalf("%s: %v %q", k.name, err, stderr)
			}
			continue
		}
		// The connection dies before EOF: written, then the client's side
		// of the TCP connection closed without ending the session. A FIN,
		// not a reset: a reset would make the server's kernel drop bytes
		// it holds unread, and what is stored would depend on timing.
		raw, err := net.Dial("tcp", ts.addr)
		if err != nil {
			t.Fatal(err)
		}
		conn, chans, reqs, err := gossh.NewClientConn(raw, ts.addr, &gossh.ClientConfig{
			User: "backup", Auth: []gossh.AuthMethod{gossh.PublicKeys(ts.signer)}, HostKeyCallback: gossh.InsecureIgnoreHostKey(),
			Timeout: 10 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		cc := gossh.NewClient(conn, chans, reqs)
		sess, err := cc.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		stdin, _ := sess.StdinPipe()
		if err := sess.Start("cat > /reports/acme/" + k.name + ".out"); err != nil {
			t.Fatal(err)
		}
		// Once the upload holds its share of the memory budget it reads,
		// and it is stored whatever the client does.
		waitFor(t, func() bool { return ts.s.budget.inUse() > 0 })
		stdin.Write(k.body)
		raw.(*net.TCPConn).CloseWrite()
		waitFor(t, func() bool { return ts.s.budget.inUse() == 0 })
		cc.Close()
	}
	// Every upload stored, each as Judge says.
	byName := map[string]store.ResultRow{}
	deadline := time.Now().Add(20 * time.Second)
	for len(byName) < len(cases) && time.Now().Before(deadline) {
		for _, k := range cases {
			if _, ok := byName[k.name]; ok {
				continue
			}
			srv, err := ts.db.ServerByName(ctx, "acme", k.name)
			if err != nil {
				continue
			}
			if h, err := ts.db.History(ctx, srv.ID, 1, 0); err == nil && len(h) == 1 {
				byName[k.name] = h[0]
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, k := range cases {
		got, ok := byName[k.name]
		if !ok {
			t.Fatalf("%s: never stored", k.name)
		}
		want, _ := parser.Parse(bytes.NewReader(k.body))
		parser.Judge(want, parser.Facts{End: k.end}, patterns)
		if got.Code != want.Code || got.Status != want.Status || got.Interrupted != (k.end == parser.EndInterrupted) {
			t.Errorf("%s: stored code %d %s (interrupted %v), want code %d %s (%s)", k.name, got.Code, got.Status, got.Interrupted, want.Code, want.Status, k.end)
		}
	}
	st, err := reeval.Run(ctx, ts.db, reeval.Options{Actor: "test", Reason: "reevaluate --all"})
	if err != nil {
		t.Fatal(err)
	}
	if st.Results != len(cases) || st.Changed != 0 || st.Updated != 0 {
		t.Errorf("re-evaluating %d uploads: %+v, want all judged, none changed or rewritten", len(cases), st)
	}
	var cut int
	for _, k := range cases {
		if k.end != parser.EndComplete && !strings.HasSuffix(k.name, "-whole") {
			cut++
		}
	}
	t.Logf("%d uploads (%d cut off) judged again: %+v", len(cases), cut, st)
}
