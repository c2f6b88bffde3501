#!/usr/bin/env bash
# Prints the parser's speed figures (issue 2): throughput against `wc -l`
# on the same files, measured side by side in one run, allocations per
# line and memory growth, for a verbose log of 100,000 files (~9 MB) and a
# generated ~1 GB log. Targets: ratio parse/wc-l >= 0.5, 0 allocs per
# ordinary line, heap growth < 16 MiB for 1 GB.
#
# Usage: scripts/bench-parser.sh [DIR]   (DIR keeps the generated logs;
# default: a temporary directory removed at the end)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

dir=${1:-}
if [ -z "$dir" ]; then
	dir=$(mktemp -d)
	trap 'rm -rf "$dir"' EXIT
fi
mkdir -p "$dir"
bin=$dir/backupreport
# As make build: static, stripped.
CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$bin" ./cmd/backupreport

echo "== go benchmarks (generate the logs in $dir, then parse them in process)"
BACKUPREPORT_BENCH_DIR=$dir go test ./parser -run '^$' -bench 'Parse9MB|Parse1GB' -benchtime 3x -count 1 |
	grep -E '^Benchmark|^ok' | tee "$dir/bench.txt"
# ns/op of the in-process parse, by file
inproc() { awk -v b="$1" '$1 ~ b {print $3 / 1e9}' "$dir/bench.txt"; }

# best TIMES CMD...: the fastest of three wall-clock runs, in seconds.
best() {
	local b=""
	for _ in 1 2 3; do
		local s e t
		s=$(date +%s.%N)
		"$@" >/dev/null || [ $? -le 1 ] # parse exits 1 for a failed verdict
		e=$(date +%s.%N)
		t=$(echo "$e - $s" | bc -l)
		if [ -z "$b" ] || [ "$(echo "$t < $b" | bc -l)" = 1 ]; then b=$t; fi
	done
	echo "$b"
}

echo
echo "== side by side: wc -l vs backupreport parse --json (best of 3, file in page cache)"
printf '%-28s %8s %8s %8s %9s %7s %9s %8s %9s\n' file MB wc-l-s parse-s parse-MB/s ratio in-proc-s ratio RSS-MiB
for f in "$dir"/rsync-100000-files.log "$dir"/rsync-11500000-files.log; do
	case $f in *-100000-*) g=$(inproc Parse9MB) ;; *) g=$(inproc Parse1GB) ;; esac
	mb=$(echo "$(stat -c %s "$f") / 1000000" | bc -l)
	cat "$f" >/dev/null # warm the page cache
	w=$(best wc -l "$f")
	p=$(best "$bin" parse --json "$f")
	rss=$( { /usr/bin/time -f '%M' "$bin" parse --json "$f" >/dev/null; } 2>&1 | tail -1) || true
	printf '%-28s %8.1f %8.3f %8.3f %9.0f %7.2f %9.3f %8.2f %9.1f\n' "$(basename "$f")" "$mb" "$w" "$p" \
		"$(echo "$mb / $p" | bc -l)" "$(echo "$w / $p" | bc -l)" "$g" "$(echo "$w / $g" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
done
echo
echo "ratio = parse throughput / wc -l throughput (target >= 0.5): first for the whole"
echo "'backupreport parse --json' process, then for the in-process Go benchmark (no process"
echo "start-up, which dominates the 9 MB file). RSS is the parse process's peak."
