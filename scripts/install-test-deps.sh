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
command -v chromium >/dev/null || need+=(chromium)
command -v runuser >/dev/null || need+=(util-linux)
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
