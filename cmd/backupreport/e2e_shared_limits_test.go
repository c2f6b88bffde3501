package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/store/pgtest"
)

// TestBanScoreSharedAcrossNodes runs two serve nodes on one PostgreSQL: a
// stranger's key refused on node A, then on node B, is banned on B once
// the two scores together reach the threshold, though neither node alone
// saw enough; node A, whose score alone never reached it, refuses the
// address once it reloads the bans.
func TestBanScoreSharedAcrossNodes(t *testing.T) {
	needTool(t, "ssh")
	dbURL := pgtest.Start(t)
	flags := []string{"--database", dbURL, "--ban-threshold", "6", "--limits-sync", "200ms", "--ban-reload", "1s"}
	a := startServe(t, flags...)
	b := startSecondNode(t, a, flags...)

	db := "--database"
	a.mustCLI("customer", "add", "acme", db, dbURL)
	good := a.newKey("good", "ed25519", 0)
	a.mustCLI("key", "add", "acme", good+".pub", db, dbURL)
	stranger := a.newKey("stranger", "ed25519", 0)
	rep := statsOut(t, "real-success")
	const cmd = "cat > /reports/acme/exch01.out"

	for range 2 { // 4 points on node A
		if r := a.upload(stranger, cmd, rep); r.code != 255 || !strings.Contains(r.stderr, "Permission denied") {
			t.Fatalf("stranger on node A: exit %d, stderr %q", r.code, r.stderr)
		}
	}
	// An admin logs in on node A; the session works on node B too.
	web := webAdmin(t, a, "http://"+a.web(), db, dbURL)
	metrics := func(in *instance) string {
		t.Helper()
		resp, err := web.http.Get("http://" + in.web() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /metrics: %d\n%s", resp.StatusCode, body)
		}
		return string(body)
	}
	waitFor(t, "node B to see node A's score", 30*time.Second, func() bool {
		return strings.Contains(metrics(b), `backupreport_shared_limit_other_subjects{scope="ssh_ban"} 1`)
	}, a, b)
	if r := b.upload(good, cmd, rep); r.code != 0 {
		t.Fatalf("the good key on node B before the ban: exit %d\n%s", r.code, r.stderr)
	}
	if r := b.upload(stranger, cmd, rep); r.code != 255 { // 2 more on B: 6
		t.Fatalf("stranger on node B: exit %d, stderr %q", r.code, r.stderr)
	}
	refusedAtOnce(t, b, good, "node B after the shared score reached the threshold")
	if !strings.Contains(b.logs.String(), `reason="1 refused key and 4 points scored on other nodes within 10m"`) {
		t.Errorf("node B's ban line does not name the other node's points:\n%s", b.logs.String())
	}
	if strings.Contains(a.logs.String(), `msg="ssh address banned"`) {
		t.Errorf("node A banned the address itself:\n%s", a.logs.String())
	}
	// Node A follows at its next reload of the bans.
	waitFor(t, "node A to refuse the address banned on node B", 30*time.Second, func() bool {
		r := a.upload(good, cmd, []byte("x"))
		return r.code == 255 && strings.Contains(r.stderr, "kex_exchange_identification")
	}, a, b)
	for _, want := range []string{`backupreport_shared_limit_syncs_total{scope="ssh_ban"}`, `backupreport_shared_limit_sync_failures_total{scope="ssh_ban"} 0`,
		`backupreport_shared_limit_syncs_total{scope="login_pair"}`} {
		if m := metrics(b); !strings.Contains(m, want) {
			t.Errorf("node B's /metrics lacks %s", want)
		}
	}
}
