#!/usr/bin/env bash
# Prints the ingestion figures of issue 3:
#  - a 1 GiB upload streamed through "backupreport serve" with real OpenSSH:
#    throughput and the server's RSS growth (target: under 64 MiB);
#  - the time from EOF to acknowledgement for a 13 KB report (Go benchmark).
# Usage: scripts/bench-ingest.sh [SIZE_BYTES]   (default 1 GiB)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
size=${1:-1073741824}
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$dir"' EXIT
bin=$dir/backupreport
go build -o "$bin" ./cmd/backupreport
data=$dir/data
"$bin" customer add acme --data "$data" >/dev/null
ssh-keygen -q -t ed25519 -N "" -f "$dir/key"
"$bin" key add acme "$dir/key.pub" --data "$data" >/dev/null
"$bin" serve --data "$data" --ssh-addr 127.0.0.1:0 --http-addr "" --max-upload-bytes $((size + 1048576)) >"$dir/serve.out" 2>"$dir/serve.log" &
pid=$!
for _ in $(seq 100); do grep -q "ssh listening" "$dir/serve.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/^ssh listening on .*:\([0-9]*\)$/\1/p' "$dir/serve.out")
ssh_opts=(-o Port="$port" -i "$dir/key" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no
	-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR)
kib() { awk -v k="$1" '$1 == k":" {print $2}' "/proc/$pid/status"; }

# Warm up: one small upload so the baseline includes the loaded code paths.
ssh "${ssh_opts[@]}" x@127.0.0.1 "cat > /reports/acme/warm.out" <testdata/rsync/real-success/stats.out 2>/dev/null
base=$(kib VmRSS)

# A verbose rsync log of $size bytes, generated on the fly, then the summary.
gen() {
	yes '/cygdrive/E/shares/Projects/Client files/2026/quarterly report final v2.docx' | head -c "$size"
	printf '\nsent 1,085,454 bytes  received 6,167 bytes  727,747.33 bytes/sec\ntotal size is 1,065,138  speedup is 0.98\n'
}
start=$(date +%s.%N)
set +o pipefail # yes(1) ends on SIGPIPE
gen | ssh "${ssh_opts[@]}" x@127.0.0.1 "cat > /reports/acme/big.out" 2>"$dir/receipt" || echo "upload failed: $(cat "$dir/receipt")"
set -o pipefail
end=$(date +%s.%N)
peak=$(kib VmHWM)
secs=$(echo "$end - $start" | bc -l)
mib=$(echo "$size / 1048576" | bc -l)
echo "== 1 GiB upload through serve with OpenSSH"
printf 'upload:           %.0f MiB in %.2f s = %.0f MiB/s (ssh + parse + compressed head/tail log)\n' "$mib" "$secs" "$(echo "$mib / $secs" | bc -l)"
printf 'server RSS:       %.1f MiB before, %.1f MiB peak, growth %.1f MiB (target < 64 MiB)\n' \
	"$(echo "$base / 1024" | bc -l)" "$(echo "$peak / 1024" | bc -l)" "$(echo "($peak - $base) / 1024" | bc -l)"
echo "receipt:          $(cat "$dir/receipt")"

echo
echo "== EOF to acknowledgement, 13 KB report (in-process server, Go SSH client)"
go test ./server -run '^$' -bench EOFToAck -benchtime 300x | grep -E '^Benchmark'
