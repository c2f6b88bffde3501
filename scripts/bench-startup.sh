#!/usr/bin/env bash
# Prints the start-up figures (issue 11): the whole-process time of
# `backupreport version` and of `backupreport parse` on an empty log (what
# every command pays before doing its work; target < 5 ms; a Go hello-world
# is timed too, as the floor of the machine), and of
# `backupreport parse --json` on a generated ~100 MB log against `wc -l`
# on the same file (target: ratio >= 0.5). RUNS rounds (default 50), the
# file in the page cache; it prints the mean, the median and the minimum of
# each.
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
	CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$bin" ./cmd/backupreport
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
	(cd "$dir/hello-src" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$hello" .)
fi
empty=$dir/empty.log
: >"$empty"
cat "$log" >/dev/null # warm the page cache

runs=${RUNS:-50}

# The commands, timed in rounds (each command once per round, in turn), so
# that a burst of load on this shared machine slows all of them alike
# instead of one; $EPOCHREALTIME (no date(1) process inside the timed span)
# brackets each run. On a shared machine the minimum is the steadier
# figure, and the ratios of figures from the same run say more than the
# figures. BEFORE=OTHER_BINARY times another build in the same rounds.
mb=$(printf '%.0f' "$(echo "$(stat -c %s "$log") / 1000000" | bc -l)")
labels=("Go hello-world (the floor)" "backupreport version" "backupreport --help" "backupreport parse --json (empty log)" "wc -l ($mb MB)" "backupreport parse --json ($mb MB)")
cmds=("$hello" "$bin version" "$bin --help" "$bin parse --json $empty" "wc -l $log" "$bin parse --json $log")
if [ -n "${BEFORE:-}" ]; then
	labels+=("before: version" "before: parse --json (empty log)" "before: parse --json ($mb MB)")
	cmds+=("$BEFORE version" "$BEFORE parse --json $empty" "$BEFORE parse --json $log")
fi
sum=() minimum=() all=()
for round in $(seq 0 "$runs"); do
	for i in "${!cmds[@]}"; do
		s=${EPOCHREALTIME/[.,]/}
		${cmds[$i]} >/dev/null 2>&1 || true # parse exits 1 for a failed verdict
		e=${EPOCHREALTIME/[.,]/}
		[ "$round" = 0 ] && continue # a warm-up round
		t=$((10#$e - 10#$s))
		sum[i]=$((${sum[i]:-0} + t))
		all[i]="${all[i]:-} $t"
		if [ -z "${minimum[i]:-}" ] || [ "$t" -lt "${minimum[i]}" ]; then minimum[i]=$t; fi
	done
done
# ms MICROSECONDS
ms() { printf '%.2f' "$(echo "$1 / 1000" | bc -l)"; }
# median I: the middle time of command I (the lower of the two middle ones)
median() { tr ' ' '\n' <<<"${all[$1]}" | sed '/^$/d' | sort -n | sed -n "$(((runs + 1) / 2))p"; }
echo "$runs rounds; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-40s %10s %10s %10s\n' command mean-ms median-ms min-ms
for i in "${!cmds[@]}"; do
	printf '%-40s %10s %10s %10s\n' "${labels[$i]}" "$(ms $((sum[i] / runs)))" "$(ms "$(median "$i")")" "$(ms "${minimum[i]}")"
done
echo
ratio() { printf '%.2f' "$(echo "$1 / $2" | bc -l)"; }
printf 'ratio = wc -l time / parse time, whole process (target >= 0.5): %s of the means, %s of the minimums\n' \
	"$(ratio "${sum[4]}" "${sum[5]}")" "$(ratio "${minimum[4]}" "${minimum[5]}")"
printf 'start-up, parse of an empty log (target < 5 ms): %s ms mean, %s ms median, %s ms min (%s, %s and %s times hello-world)\n' \
	"$(ms $((sum[3] / runs)))" "$(ms "$(median 3)")" "$(ms "${minimum[3]}")" "$(ratio "${sum[3]}" "${sum[0]}")" "$(ratio "$(median 3)" "$(median 0)")" "$(ratio "${minimum[3]}" "${minimum[0]}")"
