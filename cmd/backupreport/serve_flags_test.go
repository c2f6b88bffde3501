package main

import (
	"strings"
	"testing"
)

func TestServeRefusesReportsBeforeTheCheck(t *testing.T) {
	out, code := cliRun(t, t.TempDir(), "serve", "--ssh-addr", "127.0.0.1:0", "--http-addr", "", "--check-at", "07:00", "--report-at", "06:30")
	if code != exitFailure || !strings.Contains(out, "--report-at 06:30 must come after --check-at 07:00") {
		t.Errorf("exit %d, output %q", code, out)
	}
}
