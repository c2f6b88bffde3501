#!/usr/bin/env bash
# Prints the start-up figures (issue 11): the whole-process time of
# `backupreport version` and of `backupreport parse` on an empty log (what
# every command pays before doing its work; target < 5 ms), and of
# `backupreport parse --json` on a generated ~100 MB log against `wc -l`
# on the same file (target: ratio >= 0.5). Several runs each, file in the
# page cache; hyperfine is used when installed (apt install hyperfine),
# otherwise a loop of date(1) calls that takes the mean.
#
# Usage: scripts/bench-startup.sh [BINARY [DIR]]
#   BINARY  a built backupreport (default: built from this tree into DIR)
#   DIR     keeps the generated log (default: a temporary directory)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bin=${1:-}
dir=${2:-}
if [ -z "$dir" ]; then
	dir=$(mktemp -d)
	trap 'rm -rf "$dir"' EXIT
fi
mkdir -p "$dir"
if [ -z "$bin" ]; then
	bin=$dir/backupreport
	go build -o "$bin" ./cmd/backupreport
fi
log=$dir/rsync-1150000-files.log
if [ ! -f "$log" ]; then
	# The parser's benchmark writes the log (and reuses it from there).
	BACKUPREPORT_BENCH_DIR=$dir go test ./parser -run '^$' -bench 'Parse100MB' -benchtime 1x -count 1 >/dev/null
fi
empty=$dir/empty.log
: >"$empty"
cat "$log" >/dev/null # warm the page cache

runs=${RUNS:-20}

# mean CMD...: the mean wall-clock seconds of $runs runs (after one warm-up).
mean() {
	if command -v hyperfine >/dev/null; then
		local j=$dir/hf.json
		# parse exits 1 for a failed verdict: -i ignores the status.
		hyperfine -N -i -w 2 -r "$runs" --export-json "$j" -- "$(printf '%q ' "$@")" >/dev/null 2>&1
		python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["mean"])' "$j"
		return
	fi
	"$@" >/dev/null 2>&1 || true
	local s e
	s=$(date +%s%N)
	for _ in $(seq "$runs"); do "$@" >/dev/null 2>&1 || true; done
	e=$(date +%s%N)
	echo "($e - $s) / $runs / 1000000000" | bc -l
}

v=$(mean "$bin" version)
e=$(mean "$bin" parse --json "$empty")
w=$(mean wc -l "$log")
p=$(mean "$bin" parse --json "$log")
mb=$(echo "$(stat -c %s "$log") / 1000000" | bc -l)

printf '%-40s %10s\n' command mean-ms
printf '%-40s %10.2f\n' "backupreport version" "$(echo "$v * 1000" | bc -l)"
printf '%-40s %10.2f\n' "backupreport parse --json (empty log)" "$(echo "$e * 1000" | bc -l)"
printf '%-40s %10.2f\n' "wc -l ($(printf '%.0f' "$mb") MB)" "$(echo "$w * 1000" | bc -l)"
printf '%-40s %10.2f\n' "backupreport parse --json ($(printf '%.0f' "$mb") MB)" "$(echo "$p * 1000" | bc -l)"
echo
printf 'ratio = wc -l time / parse time, whole process: %.2f (target >= 0.5)\n' "$(echo "$w / $p" | bc -l)"
printf 'start-up (parse of an empty log): %.2f ms (target < 5)\n' "$(echo "$e * 1000" | bc -l)"
