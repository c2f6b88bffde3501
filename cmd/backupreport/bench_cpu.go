package main

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// userHZ is the unit of the CPU times in /proc/PID/stat: Linux reports them
// in USER_HZ, 100 per second on every architecture Go runs Linux on.
const userHZ = 100

// procCPUSecs returns the CPU time, user and system, that process pid and
// its children it has waited for have used, in seconds (fields 14 to 17 of
// /proc/PID/stat). Children count once they have ended and been waited
// for: sshd's per-connection processes and their cat, once each upload is
// over. pid 0 (a target in this process) has no CPU of its own: 0.
//
// Why the bench reads it: on a shared machine, a neighbour's load changes
// every rate from run to run, but much less the CPU a server spends per
// upload, which is what the work the server does costs.
func procCPUSecs(pid int) (float64, error) {
	if pid == 0 {
		return 0, nil
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	return parseProcStatCPU(b)
}

// parseProcStatCPU reads utime, stime, cutime and cstime from the text of
// /proc/PID/stat. The command name (field 2) is in parentheses and may hold
// spaces and parentheses itself, so fields are counted from its last ')'.
func parseProcStatCPU(b []byte) (float64, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc stat %q: no command name", b)
	}
	// After ")": field 3 (state) is the first, so field n is at n-3.
	const first, last = 14, 17 // utime, stime, cutime, cstime
	f := bytes.Fields(b[i+1:])
	if len(f) < last-2 {
		return 0, fmt.Errorf("/proc stat: %d fields after the command name, want at least %d", len(f), last-2)
	}
	var ticks int64
	for n := first; n <= last; n++ {
		v, err := strconv.ParseInt(string(f[n-3]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc stat field %d: %w", n, err)
		}
		ticks += v
	}
	return float64(ticks) / userHZ, nil
}

// cpuPerUpload is the CPU in milliseconds per upload between two readings
// of procCPUSecs, or 0 when there is nothing to divide.
func cpuPerUpload(before, after float64, uploads int) float64 {
	if uploads == 0 || after <= before {
		return 0
	}
	return (after - before) * 1000 / float64(uploads)
}
