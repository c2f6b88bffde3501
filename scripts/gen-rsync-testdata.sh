#!/usr/bin/env bash
# Regenerates the real-rsync cases under testdata/rsync/ by running the
# installed /usr/bin/rsync (the committed runs came from Debian bookworm's
# 3.5.0) with the customers' flags, and writes each run's output (stdout and stderr mixed, as
# backup.bat does) to testdata/rsync/real-<case>/stats.out, plus the exit
# status to exit-status. Hand-made cases (hand-*) are not touched.
#
# Then refresh the golden verdicts:   go test ./parser -update
#
# Needs: root (the unreadable cases run rsync as "nobody" through runuser,
# and a throwaway sshd on a free 127.0.0.1 port serves the ssh cases),
# rsync, ssh, sshd, python3 (to pick free ports). Paths are fixed
# (/tmp/brgen) so the output is stable apart
# from speeds and timings.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
out=${OUT:-$root/testdata/rsync}
work=/tmp/brgen
flags=(--delete --ignore-errors --chmod=u=rwx -vtrR --exclude "*.mp3")

[ "$(id -u)" -eq 0 ] || { echo "gen-rsync-testdata: run as root (for runuser)" >&2; exit 2; }
command -v rsync >/dev/null || { echo "gen-rsync-testdata: rsync is not installed" >&2; exit 2; }

chmod -R u+rwx "$work" 2>/dev/null || true
rm -rf "$work"
mkdir -p "$work"
chmod 755 "$work"

# save CASE STATUS: keeps $work/CASE.out as the case's stats.out.
save() {
	mkdir -p "$out/real-$1"
	cp "$work/$1.out" "$out/real-$1/stats.out"
	echo "$2" >"$out/real-$1/exit-status"
	printf '%-22s exit %s\n' "$1" "$2"
}

# tree DIR: a small share like a customer's, with a skipped symlink, an
# excluded mp3 and a name that rsync escapes (a newline).
tree() {
	mkdir -p "$1/Finance/2024" "$1/Music" "$1/Mail"
	echo "ledger" >"$1/Finance/2024/ledger.xls"
	echo "budget" >"$1/Finance/budget.ods"
	echo "song" >"$1/Music/track 01.mp3"
	head -c 20000 /dev/zero >"$1/Mail/archive.pst"
	echo "odd" >"$1/Mail/new"$'\n'"line.txt"
	ln -s Finance "$1/link-to-finance"
}

run() { # run CASE [rsync args...]: runs rsync, output to $work/CASE.out
	local c=$1
	shift
	set +e
	rsync "$@" >"$work/$c.out" 2>&1
	local st=$?
	set -e
	save "$c" "$st"
}

# success: everything copied, one stale file deleted on the backup.
c=success
tree "$work/$c/src"
mkdir -p "$work/$c/dest$work/$c/src/Finance"
echo stale >"$work/$c/dest$work/$c/src/Finance/stale.txt"
run $c "${flags[@]}" "$work/$c/src" "$work/$c/dest"

# unreadable: a locked-like file and an unreadable folder, run as nobody.
c=unreadable
tree "$work/$c/src"
chmod 000 "$work/$c/src/Mail/archive.pst"
mkdir -p "$work/$c/src/Private"
echo secret >"$work/$c/src/Private/salaries.txt"
chmod 000 "$work/$c/src/Private"
mkdir -p "$work/$c/dest"
chown -R nobody "$work/$c/dest"
set +e
runuser -u nobody -- rsync "${flags[@]}" "$work/$c/src" "$work/$c/dest" >"$work/$c.out" 2>&1
st=$?
set -e
save $c $st
chmod -R u+rwx "$work/$c/src"

# vanished: a slow big file goes first (--bwlimit), and a file listed
# after it is deleted while the big one is being sent, so the sender finds
# it gone when it opens it.
c=vanished
mkdir -p "$work/$c/src/Data" "$work/$c/dest"
head -c 3000000 /dev/urandom >"$work/$c/src/Data/a-big.bin"
echo "temp" >"$work/$c/src/Data/z-tempfile.tmp"
set +e
rsync "${flags[@]}" --bwlimit=1000 "$work/$c/src" "$work/$c/dest" >"$work/$c.out" 2>&1 &
pid=$!
sleep 1
rm -f "$work/$c/src/Data/z-tempfile.tmp"
wait $pid
st=$?
set -e
save $c $st

# missing-source: the share named in backup.bat does not exist.
c=missing-source
mkdir -p "$work/$c/src" "$work/$c/dest"
echo here >"$work/$c/src/present.txt"
run $c "${flags[@]}" "$work/$c/src/present.txt" "$work/$c/nosuchshare" "$work/$c/dest"

# bad-option: a typo in backup.bat.
c=bad-option
mkdir -p "$work/$c/src" "$work/$c/dest"
run $c "${flags[@]}" --bogus-option "$work/$c/src" "$work/$c/dest"

# killed: the client is killed with SIGKILL mid-transfer (like taskkill /f).
c=killed
mkdir -p "$work/$c/src" "$work/$c/dest"
head -c 5000000 /dev/urandom >"$work/$c/src/big.bin"
set +e
rsync "${flags[@]}" --bwlimit=500 "$work/$c/src" "$work/$c/dest" >"$work/$c.out" 2>&1 &
pid=$!
sleep 2
kill -9 $pid
wait $pid 2>/dev/null
st=$?
sleep 1 # the orphaned receiver writes its last words
set -e
save $c $st

# refused: ssh to a port nobody listens on.
c=refused
mkdir -p "$work/$c/src"
echo x >"$work/$c/src/x.txt"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
run $c "${flags[@]}" -e "ssh -p $port -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null" \
	"$work/$c/src" "127.0.0.1:$work/$c/dest"

# progress: --progress writes '\r' between updates of a slow file.
c=progress
mkdir -p "$work/$c/src" "$work/$c/dest"
head -c 2000000 /dev/urandom >"$work/$c/src/big.bin"
run $c "${flags[@]}" --progress --bwlimit=1000 "$work/$c/src" "$work/$c/dest"

# dry-run-human: -n and -h, "(DRY RUN)" and 1.23K-style numbers.
c=dry-run-human
tree "$work/$c/src"
mkdir -p "$work/$c/dest"
run $c "${flags[@]}" -n -h "$work/$c/src" "$work/$c/dest"

# partial-and-vanished: an unreadable file and a vanished one: code 23.
c=partial-and-vanished
mkdir -p "$work/$c/src/Data" "$work/$c/dest"
head -c 3000000 /dev/urandom >"$work/$c/src/Data/a-big.bin"
echo "locked" >"$work/$c/src/Data/b-locked.qbw"
chmod 000 "$work/$c/src/Data/b-locked.qbw"
echo "temp" >"$work/$c/src/Data/z-tempfile.tmp"
chown -R nobody "$work/$c/dest"
set +e
runuser -u nobody -- rsync "${flags[@]}" --bwlimit=1000 "$work/$c/src" "$work/$c/dest" >"$work/$c.out" 2>&1 &
pid=$!
sleep 1
rm -f "$work/$c/src/Data/z-tempfile.tmp"
wait $pid
st=$?
set -e
save $c $st

# unreadable-delete: a share backed up once, then one of its folders made
# unreadable; the second run (--delete --ignore-errors) deletes the whole
# folder's backed-up copy: the mass-deletion warning's case.
c=unreadable-delete
tree "$work/$c/src"
mkdir -p "$work/$c/src/Projects/proj2/sub" "$work/$c/dest"
for i in 1 2 3; do echo "b$i" >"$work/$c/src/Projects/proj2/g$i.txt"; echo "c$i" >"$work/$c/src/Projects/proj2/sub/h$i.txt"; done
chown -R nobody "$work/$c"
runuser -u nobody -- rsync "${flags[@]}" "$work/$c/src" "$work/$c/dest" >/dev/null 2>&1
chmod 000 "$work/$c/src/Projects/proj2"
set +e
runuser -u nobody -- rsync "${flags[@]}" "$work/$c/src" "$work/$c/dest" >"$work/$c.out" 2>&1
st=$?
set -e
save $c $st
chmod -R u+rwx "$work/$c/src"

# Over ssh to a throwaway sshd on 127.0.0.1, as the customers push.
mkdir -p "$work/ssh" /run/sshd
ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/hostkey"
ssh-keygen -q -t ed25519 -N '' -f "$work/ssh/clientkey"
cp "$work/ssh/clientkey.pub" "$work/ssh/authorized_keys"
sshport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
cat >"$work/ssh/sshd_config" <<CONF
Port $sshport
ListenAddress 127.0.0.1
HostKey $work/ssh/hostkey
AuthorizedKeysFile $work/ssh/authorized_keys
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
PidFile $work/ssh/sshd.pid
CONF
/usr/sbin/sshd -f "$work/ssh/sshd_config" -E "$work/ssh/sshd.log"
trap 'kill "$(cat "$work/ssh/sshd.pid" 2>/dev/null)" 2>/dev/null || true' EXIT
for _ in 1 2 3 4 5 6 7 8 9 10; do [ -s "$work/ssh/sshd.pid" ] && break; sleep 0.2; done
# No known_hosts: ssh prints "Warning: Permanently added ..." like cwRsync's.
rsh="ssh -p $sshport -i $work/ssh/clientkey -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"

# ssh-success: a clean push.
c=ssh-success
tree "$work/$c/src"
mkdir -p "$work/$c/dest"
run $c "${flags[@]}" -e "$rsh" "$work/$c/src" "127.0.0.1:$work/$c/dest"

# ssh-unreadable: a push by nobody with an unreadable file: code 23.
c=ssh-unreadable
tree "$work/$c/src"
chmod 000 "$work/$c/src/Mail/archive.pst"
mkdir -p "$work/$c/dest"
cp "$work/ssh/clientkey" "$work/ssh/nobodykey"
chown nobody "$work/ssh/nobodykey"
set +e
runuser -u nobody -- rsync "${flags[@]}" -e "${rsh/clientkey/nobodykey}" "$work/$c/src" "root@127.0.0.1:$work/$c/dest" >"$work/$c.out" 2>&1
st=$?
set -e
save $c $st
chmod -R u+rwx "$work/$c/src"

# ssh-unreadable-delete: unreadable-delete, pushed over ssh by nobody.
c=ssh-unreadable-delete
tree "$work/$c/src"
mkdir -p "$work/$c/src/Projects/proj2/sub" "$work/$c/dest"
for i in 1 2 3; do echo "b$i" >"$work/$c/src/Projects/proj2/g$i.txt"; echo "c$i" >"$work/$c/src/Projects/proj2/sub/h$i.txt"; done
chown -R nobody "$work/$c/src"
runuser -u nobody -- rsync "${flags[@]}" -e "${rsh/clientkey/nobodykey}" "$work/$c/src" "root@127.0.0.1:$work/$c/dest" >/dev/null 2>&1
chmod 000 "$work/$c/src/Projects/proj2"
set +e
runuser -u nobody -- rsync "${flags[@]}" -e "${rsh/clientkey/nobodykey}" "$work/$c/src" "root@127.0.0.1:$work/$c/dest" >"$work/$c.out" 2>&1
st=$?
set -e
save $c $st
chmod -R u+rwx "$work/$c/src"

# ssh-nologin-shell: the server account's shell is nologin, so its words
# get into the protocol stream: code 2.
c=ssh-nologin-shell
mkdir -p "$work/$c/src"
echo x >"$work/$c/src/x.txt"
set +e
runuser -u nobody -- rsync "${flags[@]}" -e "${rsh/clientkey/nobodykey}" "$work/$c/src" "127.0.0.1:$work/$c/dest" >"$work/$c.out" 2>&1
st=$?
set -e
save $c $st

# ssh-remote-mkdir: the destination's parent is missing on the server:
# the only final line is the remote one, [Receiver=...], code 11.
c=ssh-remote-mkdir
mkdir -p "$work/$c/src"
echo x >"$work/$c/src/x.txt"
run $c "${flags[@]}" -e "$rsh" "$work/$c/src" "127.0.0.1:$work/$c/missing/parent/dest"

# ssh-killed: the client is killed with SIGKILL mid-push.
c=ssh-killed
mkdir -p "$work/$c/src" "$work/$c/dest"
head -c 5000000 /dev/urandom >"$work/$c/src/big.bin"
set +e
rsync "${flags[@]}" -e "$rsh" --bwlimit=500 "$work/$c/src" "127.0.0.1:$work/$c/dest" >"$work/$c.out" 2>&1 &
pid=$!
sleep 2
kill -9 $pid
wait $pid 2>/dev/null
st=$?
sleep 1
set -e
save $c $st

kill "$(cat "$work/ssh/sshd.pid")" 2>/dev/null || true
trap - EXIT
chmod -R u+rwx "$work" 2>/dev/null || true
rm -rf "$work"
echo "now run: go test ./parser -update"
