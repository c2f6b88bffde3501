#!/usr/bin/env bash
# Prints the memory figures of issue 10, section 4: the peak RSS (VmHWM) of
# "backupreport serve" during
#  - one 2 GiB upload of random bytes, and
#  - 16 parallel uploads of 70 MB of random bytes,
# each run on a fresh serve, uploaded with real OpenSSH on 127.0.0.1.
# Usage: scripts/bench-memory.sh [BINARY]   (default: builds ./cmd/backupreport)
# BIG=bytes and PARALLEL=n change the sizes.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
big=${BIG:-2147483648}
par=${PARALLEL:-16}
each=70000000
dir=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
bin=${1:-}
if [ -z "$bin" ]; then
	bin=$dir/backupreport
	go build -o "$bin" ./cmd/backupreport
fi
ssh-keygen -q -t ed25519 -N "" -f "$dir/key"

start_serve() {
	[ -n "$pid" ] && kill $pid 2>/dev/null && wait $pid 2>/dev/null || true
	data=$dir/data-$1
	"$bin" customer add acme --data "$data" >/dev/null
	"$bin" key add acme "$dir/key.pub" --data "$data" >/dev/null
	"$bin" serve --data "$data" --ssh-addr 127.0.0.1:0 --http-addr "" --max-upload-bytes $(( (big > each ? big : each) + 1048576 )) \
		>"$dir/serve-$1.out" 2>"$dir/serve-$1.log" &
	pid=$!
	for _ in $(seq 100); do grep -q "ssh listening" "$dir/serve-$1.out" 2>/dev/null && break; sleep 0.1; done
	port=$(sed -n 's/^ssh listening on .*:\([0-9]*\)$/\1/p' "$dir/serve-$1.out")
	ssh_opts=(-o Port="$port" -i "$dir/key" -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=no
		-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR)
	ssh "${ssh_opts[@]}" x@127.0.0.1 "cat > /reports/acme/warm.out" </dev/null 2>/dev/null
}
mib() { awk -v k="$1" '$1 == k":" {printf "%.1f", $2 / 1024}' "/proc/$pid/status"; }

start_serve big
rss=$(mib VmRSS)
t0=$(date +%s.%N)
head -c "$big" /dev/urandom | ssh "${ssh_opts[@]}" x@127.0.0.1 "cat > /reports/acme/big.out" 2>"$dir/receipt-big" || true
t1=$(date +%s.%N)
printf '== one %d-byte random upload: peak RSS %s MiB (%s MiB before), %.1f s\n' "$big" "$(mib VmHWM)" "$rss" "$(echo "$t1 - $t0" | bc -l)"
echo "receipt: $(cat "$dir/receipt-big")"

start_serve par
head -c "$each" /dev/urandom >"$dir/each.bin"
rss=$(mib VmRSS)
uploads=()
for i in $(seq "$par"); do
	ssh "${ssh_opts[@]}" x@127.0.0.1 "cat > /reports/acme/par$i.out" <"$dir/each.bin" 2>"$dir/receipt-$i" &
	uploads+=($!)
done
wait "${uploads[@]}" || true
stored=$(cat "$dir"/receipt-[0-9]* | grep -c "backupreport: stored" || true)
printf '== %d parallel %d-byte random uploads: peak RSS %s MiB (%s MiB before); %d of %d stored\n' "$par" "$each" "$(mib VmHWM)" "$rss" "$stored" "$par"
cat "$dir"/receipt-[0-9]* | grep -v "backupreport: stored" | sort | uniq -c || true
