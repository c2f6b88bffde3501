package parser

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
)

// The benchmarks parse generated logs of 100,000 files (about 9 MB), of
// 1,150,000 files (about 100 MB) and of about 1 GB. The files are written to $BACKUPREPORT_BENCH_DIR when it is
// set (and reused from there: scripts/bench-parser.sh times `wc -l` on the
// same files), otherwise to a temporary directory. They report MB/s,
// allocations per line and heap growth; they assert nothing about time.

const (
	files9MB   = 100_000
	files100MB = 1_150_000
	files1GB   = 11_500_000
)

func benchLog(b *testing.B, files int) string {
	b.Helper()
	dir := os.Getenv("BACKUPREPORT_BENCH_DIR")
	if dir == "" {
		dir = b.TempDir()
	}
	path := filepath.Join(dir, "rsync-"+strconv.Itoa(files)+"-files.log")
	if _, err := os.Stat(path); err == nil {
		return path
	}
	f, err := os.Create(path + ".tmp")
	if err != nil {
		b.Fatal(err)
	}
	if err := writeLog(f, files); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		b.Fatal(err)
	}
	return path
}

func BenchmarkParse9MB(b *testing.B) {
	path := benchLog(b, files9MB)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	benchParse(b, func() io.Reader { return bytes.NewReader(data) }, int64(len(data)))
}

func BenchmarkParse100MB(b *testing.B) {
	path := benchLog(b, files100MB)
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	benchParse(b, func() io.Reader { return bytes.NewReader(data) }, int64(len(data)))
}

// BenchmarkParseBytes100MB is BenchmarkParse100MB in place (ParseBytes),
// as `backupreport parse FILE` parses a mapped file.
func BenchmarkParseBytes100MB(b *testing.B) {
	data, err := os.ReadFile(benchLog(b, files100MB))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if res := ParseBytes(data); res.Lines == 0 {
			b.Fatalf("parse gave %+v", res)
		}
	}
}

func BenchmarkParse1GB(b *testing.B) {
	if testing.Short() {
		b.Skip("1 GB log skipped with -short")
	}
	path := benchLog(b, files1GB)
	fi, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	var f *os.File
	defer func() { f.Close() }()
	benchParse(b, func() io.Reader {
		f.Close()
		f, err = os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		return f
	}, fi.Size())
}

// benchParse parses the reader open returns b.N times and reports the
// speed, allocations per line and heap growth of one parse.
func benchParse(b *testing.B, open func() io.Reader, size int64) {
	b.SetBytes(size)
	b.ReportAllocs()
	var lines int
	var mallocs, growth uint64
	var before, after runtime.MemStats
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		r := open()
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		res, err := Parse(r)
		b.StopTimer()
		runtime.ReadMemStats(&after)
		b.StartTimer()
		if err != nil {
			b.Fatal(err)
		}
		if res.Status == "" || res.Lines == 0 {
			b.Fatalf("parse gave %+v", res)
		}
		lines = res.Lines
		mallocs += after.Mallocs - before.Mallocs
		if g := after.HeapAlloc - min(after.HeapAlloc, before.HeapAlloc); g > growth {
			growth = g
		}
	}
	b.ReportMetric(float64(mallocs)/float64(b.N)/float64(lines), "allocs/line")
	b.ReportMetric(float64(growth)/(1<<20), "heap-growth-MiB")
	b.ReportMetric(float64(lines), "lines")
}

// BenchmarkLine is the cost of one ordinary file-list line.
func BenchmarkLine(b *testing.B) {
	p := &parser{res: &Result{FileErrors: []FileError{}}, inList: true}
	line := []byte("/cygdrive/E/shares/Department/Projects/1000/Quarterly report 1234 final version.xlsx")
	b.SetBytes(int64(len(line) + 1))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		p.line(line)
	}
}

// BenchmarkJudge judges a parsed code-23 report with five exceptions, as
// every upload and every re-evaluated result is.
func BenchmarkJudge(b *testing.B) {
	log, err := os.ReadFile(filepath.Join("..", "testdata", "rsync", "hand-cygwin-ssh-code23", "stats.out"))
	if err != nil {
		b.Fatal(err)
	}
	r, err := Parse(bytes.NewReader(log))
	if err != nil {
		b.Fatal(err)
	}
	patterns := []string{"*.tmp", "*/Temp/*", "*.lock", "*.pst", "*/Outlook/*"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		Judge(r, Facts{}, patterns)
	}
}
