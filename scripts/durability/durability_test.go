package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/backupreport/backupreport/scripts/internal/harness"
)

// logWriter sends the per-cycle lines to the test log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestKillNineLosesNoAcknowledgedUpload is the short form of "make
// durability": 3 kill -9 cycles under 16 uploaders. An upload that got
// exit status 0 must be in the database afterwards, and the database
// must pass integrity_check. The kill times count from each cycle's first
// acknowledged upload, so that a slow CI machine still tests something.
func TestKillNineLosesNoAcknowledgedUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills the server three times")
	}
	root, err := harness.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "backupreport")
	build := exec.Command("go", "build", "-o", bin, "./cmd/backupreport")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	s, err := runDurability(ctx, options{Bin: bin, Root: root, Dir: t.TempDir(), Cycles: 3, Uploaders: 16,
		MinKill: 300 * time.Millisecond, MaxKill: time.Second, FromFirstAck: true, Seed: uint64(time.Now().UnixNano()), Out: logWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d acknowledged, %d found, %d lost, %d stored without acknowledgement, integrity_check %s",
		s.Acked, s.Found, s.Lost, s.Unacked, s.Integrity)
	if s.Acked == 0 {
		t.Fatalf("no upload was acknowledged in 3 cycles (%d begun, %d refused: %s): the test proves nothing", s.Begun, s.Refused, s.RefusedSample)
	}
	if s.Lost != 0 {
		t.Errorf("%d acknowledged uploads are not in the database, markers %v", s.Lost, s.LostIDs)
	}
	if s.Integrity != "ok" {
		t.Errorf("integrity_check: %s", s.Integrity)
	}
}
