package main

import (
	"encoding/json"
	"path/filepath"
	"testing"
)

// TestBenchRunsAndCounts runs "bench" with tiny sizes (20 server names:
// the default 1,000 take over a minute to register under -race) against the floor (its
// own process), the floor in bench's process and serve, and checks that every upload was
// made and stored and that the ratios are to the floor in its own process. It asserts no
// time: the figures are for people, on a quiet machine.
func TestBenchRunsAndCounts(t *testing.T) {
	bin := binary(t)
	res := run(t, nil, bin, "bench", "--targets", "floor,floor-inprocess,serve", "--levels", "1,2", "--level-time", "200ms", "--servers", "20",
		"--night", "20", "--bulk-bytes", "100000", "--json",
		"--report", filepath.Join("..", "..", "testdata", "rsync", "hand-cygwin-ssh-code23", "stats.out"))
	if res.code != 0 {
		t.Fatalf("bench exited %d: %s", res.code, res.stderr)
	}
	var got []benchResult
	if err := json.Unmarshal([]byte(res.stdout), &got); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, res.stdout)
	}
	if len(got) != 3 || got[0].Target != "floor" || got[1].Target != "floor-inprocess" || got[2].Target != "serve" {
		t.Fatalf("targets: got %+v, want floor, floor-inprocess and serve", got)
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
	if s := got[2]; s.NightLost != 0 || s.RSSIdleMiB == 0 || s.Levels[0].Ratio == 0 {
		t.Errorf("serve: lost %d, idle RSS %.0f MiB, ratio %.2f; want 0 lost, an RSS and a ratio", s.NightLost, s.RSSIdleMiB, s.Levels[0].Ratio)
	}
	floor, inproc, serve := got[0], got[1], got[2]
	if floor.RSSIdleMiB == 0 || floor.Levels[0].Ratio != 0 {
		t.Errorf("floor: idle RSS %.0f MiB, ratio %.2f; want its own process's RSS and no ratio (it is the reference)", floor.RSSIdleMiB, floor.Levels[0].Ratio)
	}
	for i := range serve.Levels {
		for _, r := range []benchResult{inproc, serve} {
			want := r.Levels[i].PerSec / floor.Levels[i].PerSec
			if d := r.Levels[i].Ratio - want; d > 1e-9 || d < -1e-9 {
				t.Errorf("%s at %d clients: ratio %.4f, want %.4f (its rate over the floor's)", r.Target, r.Levels[i].Clients, r.Levels[i].Ratio, want)
			}
		}
	}
	// CPU per upload: read from /proc for the targets in processes of their
	// own, never for the floor in bench's process (its CPU is the load
	// generator's too). CPU comes in ticks of 10 ms, so a short level may
	// read none; the night and the levels together must read some.
	cpuOf := func(r benchResult) (total float64) {
		for _, l := range r.Levels {
			total += l.CPUms
		}
		return total + r.NightCPUms
	}
	for _, r := range []benchResult{floor, serve} {
		if cpuOf(r) == 0 {
			t.Errorf("%s: no CPU per upload read at any level nor in the night", r.Target)
		}
	}
	if cpuOf(inproc) != 0 {
		t.Errorf("floor-inprocess: CPU per upload %v, want none (it shares bench's process)", cpuOf(inproc))
	}
	for i, l := range serve.Levels {
		if f := floor.Levels[i].CPUms; f > 0 && l.CPUms > 0 {
			if d := l.CPURatio - l.CPUms/f; d > 1e-9 || d < -1e-9 {
				t.Errorf("serve at %d clients: CPU ratio %.4f, want %.4f (its CPU over the floor's)", l.Clients, l.CPURatio, l.CPUms/f)
			}
		} else if l.CPURatio != 0 {
			t.Errorf("serve at %d clients: CPU ratio %.4f without two CPU figures", l.Clients, l.CPURatio)
		}
	}
}
