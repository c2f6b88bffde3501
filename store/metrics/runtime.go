package metrics

import (
	"bytes"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// NewGoCollector reports the Go runtime's state under the names of
// client_golang's Go collector: goroutines, threads, heap and GC (its
// pauses as the same summary, go_gc_duration_seconds).
func NewGoCollector() Collector {
	return CollectorFunc(func() []Family {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		gc := debug.GCStats{PauseQuantiles: make([]time.Duration, 5)}
		debug.ReadGCStats(&gc)
		pauses := Family{Name: "go_gc_duration_seconds", Help: "A summary of the wall-time pause (stop-the-world) duration in garbage collection cycles.", Type: TypeSummary}
		for i, q := range []string{"0", "0.25", "0.5", "0.75", "1"} {
			pauses.Samples = append(pauses.Samples, Sample{Labels: []Label{{Name: "quantile", Value: q}}, Value: gc.PauseQuantiles[i].Seconds()})
		}
		pauses.Samples = append(pauses.Samples, Sample{Suffix: "_sum", Value: gc.PauseTotal.Seconds()}, Sample{Suffix: "_count", Value: float64(gc.NumGC)})
		g := func(name, help string, v float64) Family {
			return Family{Name: name, Help: help, Type: TypeGauge, Samples: []Sample{{Value: v}}}
		}
		return []Family{
			g("go_goroutines", "Number of goroutines that currently exist.", float64(runtime.NumGoroutine())),
			g("go_threads", "Number of OS threads created.", float64(pprof.Lookup("threadcreate").Count())),
			{Name: "go_info", Help: "Information about the Go environment.", Type: TypeGauge,
				Samples: []Sample{{Labels: []Label{{Name: "version", Value: runtime.Version()}}, Value: 1}}},
			pauses,
			g("go_memstats_alloc_bytes", "Number of bytes allocated in heap and currently in use.", float64(ms.HeapAlloc)),
			g("go_memstats_heap_alloc_bytes", "Number of heap bytes allocated and currently in use.", float64(ms.HeapAlloc)),
			g("go_memstats_heap_inuse_bytes", "Number of heap bytes that are in use.", float64(ms.HeapInuse)),
			g("go_memstats_heap_objects", "Number of currently allocated objects.", float64(ms.HeapObjects)),
			g("go_memstats_sys_bytes", "Number of bytes obtained from the system.", float64(ms.Sys)),
			g("go_memstats_next_gc_bytes", "Number of heap bytes when the next garbage collection will take place.", float64(ms.NextGC)),
			g("go_memstats_last_gc_time_seconds", "Number of seconds since 1970 of the last garbage collection.", float64(ms.LastGC)/1e9),
			{Name: "go_gc_cycles_total", Help: "Completed garbage collection cycles.", Type: TypeCounter, Samples: []Sample{{Value: float64(ms.NumGC)}}},
			g("go_sched_gomaxprocs_threads", "The current runtime.GOMAXPROCS setting.", float64(runtime.GOMAXPROCS(0))),
		}
	})
}

// clockTicks is Linux's USER_HZ, the unit of /proc/self/stat's times: 100
// on every architecture Go supports (client_golang's procfs assumes it too).
const clockTicks = 100

// NewProcessCollector reports the process's CPU, memory, file handles and
// start time under client_golang's process_* names, read from /proc at
// each scrape. Where /proc is missing (not Linux) it reports nothing.
func NewProcessCollector() Collector {
	return CollectorFunc(func() []Family {
		var out []Family
		g := func(name, help, typ string, v float64) {
			out = append(out, Family{Name: name, Help: help, Type: typ, Samples: []Sample{{Value: v}}})
		}
		if st, ok := readProcStat(); ok {
			g("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", TypeCounter, (st.utime+st.stime)/clockTicks)
			g("process_resident_memory_bytes", "Resident memory size in bytes.", TypeGauge, st.rss*float64(os.Getpagesize()))
			g("process_virtual_memory_bytes", "Virtual memory size in bytes.", TypeGauge, st.vsize)
			if boot, ok := bootTime(); ok {
				g("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", TypeGauge, boot+st.start/clockTicks)
			}
		}
		if fds, err := os.ReadDir("/proc/self/fd"); err == nil {
			g("process_open_fds", "Number of open file descriptors.", TypeGauge, float64(len(fds)))
		}
		var lim syscall.Rlimit
		if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err == nil {
			g("process_max_fds", "Maximum number of open file descriptors.", TypeGauge, float64(lim.Cur))
		}
		return out
	})
}

type procStat struct{ utime, stime, start, vsize, rss float64 }

// readProcStat reads /proc/self/stat; the command name (field 2) is in
// parentheses and may hold spaces, so fields count from its last ')'.
func readProcStat() (procStat, bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return procStat{}, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, false
	}
	f := strings.Fields(string(b[i+1:])) // f[0] is field 3 (state)
	if len(f) < 22 {
		return procStat{}, false
	}
	num := func(k int) float64 { // k: the field's number in proc(5)
		v, _ := strconv.ParseFloat(f[k-3], 64)
		return v
	}
	return procStat{utime: num(14), stime: num(15), start: num(22), vsize: num(23), rss: num(24)}, true
}

// bootTime is the btime line of /proc/stat: the boot, in seconds since
// 1970, from which a process's start is counted.
func bootTime() (float64, bool) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			t, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return t, err == nil
		}
	}
	return 0, false
}
