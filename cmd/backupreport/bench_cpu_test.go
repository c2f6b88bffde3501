package main

import (
	"crypto/sha256"
	"os"
	"testing"
	"time"
)

func TestParseProcStatCPU(t *testing.T) {
	for _, c := range []struct {
		name, stat string
		want       float64
		err        bool
	}{
		// utime 150, stime 50, cutime 30, cstime 20 ticks: 2.5 s.
		{"plain", "4242 (backupreport) S 1 4242 4242 0 -1 4194560 1234 0 0 0 150 50 30 20 20 0 9 0 100 2000000 500 18446744073709551615", 2.5, false},
		{"name with spaces and parentheses", "77 (my (odd) name) R 1 77 77 0 -1 0 0 0 0 0 1 2 3 4 20 0 1 0", 0.1, false},
		{"truncated", "77 (sshd) S 1 77 77 0", 0, true},
		{"no name", "77 sshd S", 0, true},
		{"not a number", "77 (sshd) S 1 77 77 0 -1 0 0 0 0 0 x 2 3 4 20", 0, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := parseProcStatCPU([]byte(c.stat))
			if (err != nil) != c.err {
				t.Fatalf("err = %v, want error %v", err, c.err)
			}
			if got != c.want {
				t.Errorf("got %v s, want %v", got, c.want)
			}
		})
	}
}

// TestProcCPUSecsOfThisProcess hashes until this test's own CPU, as read
// from /proc, grows by a tick: it must, within seconds. pid 0 (a target in
// the bench's process) has none.
func TestProcCPUSecsOfThisProcess(t *testing.T) {
	before, err := procCPUSecs(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(nil)
	for deadline := time.Now().Add(10 * time.Second); ; {
		for i := 0; i < 10_000; i++ {
			sum = sha256.Sum256(sum[:])
		}
		now, err := procCPUSecs(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if now > before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("CPU still %v s after 10 s of hashing", now)
		}
	}
	if got, err := procCPUSecs(0); got != 0 || err != nil {
		t.Errorf("pid 0: %v, %v; want 0 and no error", got, err)
	}
}

func TestCPUPerUpload(t *testing.T) {
	if got := cpuPerUpload(1.0, 1.5, 250); got != 2 {
		t.Errorf("0.5 s over 250 uploads: %v ms, want 2", got)
	}
	if got := cpuPerUpload(1.0, 1.0, 250); got != 0 {
		t.Errorf("no CPU read: %v, want 0", got)
	}
	if got := cpuPerUpload(1.0, 2.0, 0); got != 0 {
		t.Errorf("no uploads: %v, want 0", got)
	}
}
