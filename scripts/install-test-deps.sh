#!/usr/bin/env bash
# Installs the programs the end-to-end tests run for real. Idempotent: it
# only calls apt-get when something is missing. Runs as root or via sudo.
set -euo pipefail
need=()
command -v rsync >/dev/null || need+=(rsync)
command -v curl >/dev/null || need+=(curl)
command -v ssh >/dev/null || need+=(openssh-client)
command -v sshd >/dev/null || [ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v plink >/dev/null || need+=(putty-tools)
command -v psftp >/dev/null || need+=(putty-tools)
# The client matrix (cmd/backupreport/e2e_clients_test.go): Debian's curl
# speaks scp:// and sftp:// through libssh2; the libssh client is built
# from testdata/libssh_client.c with gcc; paramiko is Debian's, for
# /usr/bin/python3.
command -v gcc >/dev/null || need+=(gcc libc6-dev)
[ -e /usr/include/libssh/libssh.h ] || need+=(libssh-dev)
/usr/bin/python3 -c 'import paramiko' 2>/dev/null || need+=(python3-paramiko)
command -v chromium >/dev/null || need+=(chromium)
command -v runuser >/dev/null || need+=(util-linux)
# PostgreSQL 15 for the PostgreSQL store tests (issue 15): they run their
# own cluster with initdb/pg_ctl on 127.0.0.1 as a non-root user.
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql)
if [ ${#need[@]} -eq 0 ]; then
  echo "test dependencies: all present"
  exit 0
fi
echo "test dependencies: installing ${need[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" </dev/null
