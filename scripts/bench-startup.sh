#!/usr/bin/env bash
# Prints the start-up figures (issue 11): the whole-process time of
# `backupreport version` and of `backupreport parse` on an empty log (what
# every command pays before doing its work; target < 5 ms; a Go hello-world
# is timed too, as the floor of the machine), and of
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
	# The flags of the Makefile, so the figures are those of `make build`.
	go build -trimpath -ldflags='-s -w' -o "$bin" ./cmd/backupreport
fi
log=$dir/rsync-1150000-files.log
if [ ! -f "$log" ]; then
	# The parser's benchmark writes the log (and reuses it from there).
	BACKUPREPORT_BENCH_DIR=$dir go test ./parser -run '^$' -bench 'Parse100MB' -benchtime 1x -count 1 >/dev/null
fi
# The floor: a Go hello-world, started the same way on the same machine.
hello=$dir/hello-bin
if [ ! -f "$hello" ]; then
	mkdir -p "$dir/hello-src"
	printf 'package main\n\nimport "fmt"\n\nfunc main() { fmt.Println("hello") }\n' >"$dir/hello-src/main.go"
	printf 'module hello\n' >"$dir/hello-src/go.mod"
	(cd "$dir/hello-src" && go build -trimpath -ldflags='-s -w' -o "$hello" .)
fi
empty=$dir/empty.log
: >"$empty"
cat "$log" >/dev/null # warm the page cache

runs=${RUNS:-20}

# mean CMD...: "MEAN MIN", wall-clock seconds over $runs runs (after a
# warm-up). On a shared machine the minimum is the steadier figure.
mean() {
	if command -v hyperfine >/dev/null; then
		local j=$dir/hf.json
		# parse exits 1 for a failed verdict: -i ignores the status.
		hyperfine -N -i -w 2 -r "$runs" --export-json "$j" -- "$(printf '%q ' "$@")" >/dev/null 2>&1
		python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print(r["mean"], r["min"])' "$j"
		return
	fi
	"$@" >/dev/null 2>&1 || true
	local s e t sum=0 min=""
	for _ in $(seq "$runs"); do
		s=$(date +%s%N)
		"$@" >/dev/null 2>&1 || true
		e=$(date +%s%N)
		t=$((e - s)) sum=$((sum + e - s))
		if [ -z "$min" ] || [ "$t" -lt "$min" ]; then min=$t; fi
	done
	echo "$(echo "$sum / $runs / 1000000000" | bc -l) $(echo "$min / 1000000000" | bc -l)"
}

read -r h hmin < <(mean "$hello")
read -r v vmin < <(mean "$bin" version)
read -r e emin < <(mean "$bin" parse --json "$empty")
read -r w wmin < <(mean wc -l "$log")
read -r p pmin < <(mean "$bin" parse --json "$log")
mb=$(printf '%.0f' "$(echo "$(stat -c %s "$log") / 1000000" | bc -l)")
ms() { printf '%.2f' "$(echo "$1 * 1000" | bc -l)"; }

printf '%-40s %10s %10s\n' command mean-ms min-ms
printf '%-40s %10s %10s\n' "Go hello-world (the floor)" "$(ms "$h")" "$(ms "$hmin")"
printf '%-40s %10s %10s\n' "backupreport version" "$(ms "$v")" "$(ms "$vmin")"
printf '%-40s %10s %10s\n' "backupreport parse --json (empty log)" "$(ms "$e")" "$(ms "$emin")"
printf '%-40s %10s %10s\n' "wc -l ($mb MB)" "$(ms "$w")" "$(ms "$wmin")"
printf '%-40s %10s %10s\n' "backupreport parse --json ($mb MB)" "$(ms "$p")" "$(ms "$pmin")"
echo
printf 'ratio = wc -l time / parse time, whole process (target >= 0.5): %.2f of the means, %.2f of the minimums\n' \
	"$(echo "$w / $p" | bc -l)" "$(echo "$wmin / $pmin" | bc -l)"
printf 'start-up, parse of an empty log (target < 5 ms): %s ms mean, %s ms min\n' "$(ms "$e")" "$(ms "$emin")"
