#!/usr/bin/env bash
# Installs what the test suite needs and a fresh Debian/Ubuntu machine may lack: Postgres
# server binaries (the harness runs a throwaway cluster), Chromium (the API reference and the
# console are rendered in a real browser; web/'s playwright-core drives it), and Node.js with npm plus the npm packages of the OpenID
# provider fixture in tests/oidc-provider (the certified oidc-provider package, run offline),
# openssl (RSA and odd-curve certificates for the cluster tests), and a Python virtualenv in
# tests/spiffe/.venv with py-spiffe (the SPIFFE interoperability test) and PyYAML, the DNS
# peers (PowerDNS, moto) and kmock's Kubernetes API emulator (the agent's tests), and
# Schemathesis in tests/schemathesis/.venv (the API fuzzing test).
# Idempotent: installs nothing that is already there.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

missing=()
have_postgres() {
  command -v initdb >/dev/null && command -v postgres >/dev/null && return 0
  ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1
}
have_postgres || missing+=(postgresql)
command -v openssl >/dev/null || missing+=(openssl)
python3 -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
[ -x /usr/bin/chromium ] || [ -n "${CHROMIUM:-}" ] || missing+=(chromium)
# kubectl reads the kubeconfigs the CLI writes (Debian's kubernetes-client, when none is there).
command -v kubectl >/dev/null || missing+=(kubernetes-client)
if ! command -v node >/dev/null; then
  missing+=(nodejs npm)
elif ! command -v npm >/dev/null; then
  missing+=(npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages: ${missing[*]}; install them (sudo apt-get install ${missing[*]}) and rerun" >&2
    exit 1
  fi
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The OpenID provider fixture: oidc-provider 9 needs Node.js 20.19 or later.
if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
  echo "tests/oidc-provider needs Node.js >= 20.19, found $(node --version); install a newer nodejs and rerun" >&2
  exit 1
fi

# shellcheck source=scripts/npm-ci.sh
source "$root/scripts/npm-ci.sh"
npm_ci "$root/tests/oidc-provider" tests/oidc-provider

# playwright-core for the console's browser scenarios (web/tests), which drive the system's
# Chromium: no browser is downloaded.
npm_ci "$root/web" web

# The API clients' generators and runtimes: the tests run both generated clients.
"$root/scripts/install-client-tools.sh"

# py-spiffe and PyYAML, in a virtualenv of their own (pinned in tests/spiffe/requirements.txt).
spiffe="$root/tests/spiffe"
stamp="$spiffe/.venv/installed"
if [ ! -f "$stamp" ] || [ "$spiffe/requirements.txt" -nt "$stamp" ]; then
  echo "installing Python packages in tests/spiffe/.venv"
  rm -rf "$spiffe/.venv"
  python3 -m venv "$spiffe/.venv"
  if ! out="$("$spiffe/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$spiffe/requirements.txt" 2>&1)"; then
    printf '%s\n' "$out" >&2
    echo "pip install failed in tests/spiffe/.venv" >&2
    exit 1
  fi
  touch "$stamp"
fi

# The DNS provider peers of tests/dns-peers: PowerDNS Authoritative with its SQLite backend
# and dig (Debian's packages; no pdns service is needed: pdns.sh runs a throwaway server in
# the foreground), and moto's Route 53 server (pinned in tests/dns-peers/requirements.txt) in
# the same virtualenv as py-spiffe.
dns_missing=()
command -v pdns_server >/dev/null || [ -x /usr/sbin/pdns_server ] || dns_missing+=(pdns-server)
ls /usr/lib/*/pdns/libgsqlite3backend.so >/dev/null 2>&1 || dns_missing+=(pdns-backend-sqlite3)
command -v dig >/dev/null || dns_missing+=(dnsutils)
# nginx: the reverse proxy of the client-address test (proxies.rs); Prometheus: the live
# check of deploy/monitoring (monitoring.rs).
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || dns_missing+=(nginx)
command -v prometheus >/dev/null || dns_missing+=(prometheus)
if [ ${#dns_missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages: ${dns_missing[*]}; install them (sudo apt-get install ${dns_missing[*]}) and rerun" >&2
    exit 1
  fi
  echo "installing: ${dns_missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${dns_missing[@]}" >/dev/null
  # Where systemd runs, the package has just started a pdns service on port 53: the tests
  # need none.
  if [[ " ${dns_missing[*]} " == *" pdns-server "* ]] && [ -d /run/systemd/system ]; then
    systemctl disable --now pdns >/dev/null 2>&1 || true
  fi
  # Likewise nginx on port 80, and Prometheus (and its node exporter) on 9090 and 9100.
  if [ -d /run/systemd/system ]; then
    for service in nginx prometheus prometheus-node-exporter; do
      if [[ " ${dns_missing[*]} " == *" ${service%-node-exporter} "* ]]; then
        systemctl disable --now "$service" >/dev/null 2>&1 || true
      fi
    done
  fi
fi

# The Python packages of a test peer (tests/NAME/requirements.txt) in the same virtualenv as
# py-spiffe, installed again when that file changes (its stamp goes with the virtualenv when
# the py-spiffe block recreates it).
pip_install_peer() { # NAME
  local requirements="$root/tests/$1/requirements.txt" stamp="$spiffe/.venv/installed-$1" out
  if [ ! -f "$stamp" ] || [ "$requirements" -nt "$stamp" ]; then
    echo "installing Python packages for tests/$1 in tests/spiffe/.venv"
    if ! out="$("$spiffe/.venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" 2>&1)"; then
      printf '%s\n' "$out" >&2
      echo "pip install failed for tests/$1 in tests/spiffe/.venv" >&2
      exit 1
    fi
    touch "$stamp"
  fi
}
pip_install_peer dns-peers
# kmock's Kubernetes API emulator for the agent's tests (tests/kube-emulator).
pip_install_peer kube-emulator

# Schemathesis for the API fuzzing test (services/server/tests/server/fuzz.rs), in a virtualenv
# of its own (its closure shares packages with moto's at other versions), every wheel pinned by
# hash in tests/schemathesis/requirements.txt.
fuzz="$root/tests/schemathesis"
stamp="$fuzz/.venv/installed"
if [ ! -f "$stamp" ] || [ "$fuzz/requirements.txt" -nt "$stamp" ]; then
  echo "installing schemathesis in tests/schemathesis/.venv"
  rm -rf "$fuzz/.venv"
  python3 -m venv "$fuzz/.venv"
  if ! out="$("$fuzz/.venv/bin/pip" install --quiet --disable-pip-version-check --no-deps \
    --only-binary=:all: --require-hashes -r "$fuzz/requirements.txt" 2>&1)"; then
    printf '%s\n' "$out" >&2
    echo "pip install failed in tests/schemathesis/.venv" >&2
    exit 1
  fi
  touch "$stamp"
fi
