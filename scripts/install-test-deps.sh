#!/usr/bin/env bash
# Installs what the test suite needs and a fresh Debian/Ubuntu machine may lack: Postgres
# server binaries (the harness runs a throwaway cluster) and Chromium (the API reference is
# rendered in a real browser). Idempotent: installs nothing that is already there.
set -euo pipefail

missing=()
have_postgres() {
  command -v initdb >/dev/null && command -v postgres >/dev/null && return 0
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1
}
have_postgres || missing+=(postgresql)
[ -x /usr/bin/chromium ] || [ -n "${CHROMIUM:-}" ] || missing+=(chromium)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "missing packages: ${missing[*]}; install them (sudo apt-get install ${missing[*]}) and rerun" >&2
  exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
