package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// TestBenchRunsAndCounts runs "bench" with tiny sizes (20 server names:
// the default 1,000 take over a minute to register under -race) against the floor and
// serve and checks that every upload was made and stored. It asserts no
// time: the figures are for people, on a quiet machine.
func TestBenchRunsAndCounts(t *testing.T) {
	bin := binary(t)
	res := run(t, nil, bin, "bench", "--targets", "floor,serve", "--levels", "1,2", "--level-time", "200ms", "--servers", "20",
		"--night", "20", "--bulk-bytes", "100000", "--json",
		"--report", filepath.Join("..", "..", "testdata", "rsync", "hand-cygwin-ssh-code23", "stats.out"))
	if res.code != 0 {
		t.Fatalf("bench exited %d: %s", res.code, res.stderr)
	}
	var got []benchResult
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, res.stdout)
	}
	if len(got) != 2 || got[0].Target != "floor" || got[1].Target != "serve" {
		t.Fatalf("targets: got %+v, want floor and serve", got)
	}
	for _, r := range got {
		if len(r.Levels) != 2 {
			t.Errorf("%s: %d levels, want 2", r.Target, len(r.Levels))
			continue
		}
		for _, l := range r.Levels {
			if l.Uploads == 0 || l.Errors != 0 {
				t.Errorf("%s at %d clients: %d uploads, %d errors; want some and none", r.Target, l.Clients, l.Uploads, l.Errors)
			}
		}
		if r.NightUploads != 20 || r.NightErrors != 0 {
			t.Errorf("%s night: %d uploads, %d errors; want 20 and 0", r.Target, r.NightUploads, r.NightErrors)
		}
		if r.BulkErr != "" || r.BulkMBps == 0 {
			t.Errorf("%s bulk: %q, %.0f MB/s", r.Target, r.BulkErr, r.BulkMBps)
		}
	}
	if s := got[1]; s.NightLost != 0 || s.RSSIdleMiB == 0 || s.Levels[0].Ratio == 0 {
		t.Errorf("serve: lost %d, idle RSS %.0f MiB, ratio %.2f; want 0 lost, an RSS and a ratio", s.NightLost, s.RSSIdleMiB, s.Levels[0].Ratio)
	}
}
