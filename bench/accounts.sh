#!/usr/bin/env bash
# Accounts benchmark (issue 4): `GET /api/v1/me` with an access token, as a ratio of
# `GET /healthz` throughput on the same server, both measured here, side by side, in this
# run (target >= 0.50). The micro-benchmark of the authentication itself is
# `cargo bench -p flotilla-server --bench auth` (target: median under 50 µs).
#
#   bench/accounts.sh            # needs wrk (apt-get install wrk); builds in release mode
#
# The token is obtained as the CLI would, through the device grant, approved by the
# development-mode developer in a curl "browser". Server and load generator are pinned to
# different cores; the two endpoints are measured back to back in each round, alternating
# which goes first, and the median ratio over the rounds is reported.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -q -p flotilla-server --bin flotilla-server
. bench/lib.sh
pid=
cleanup() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

port=$(free_port)
base="http://127.0.0.1:$port"
(cd "$work" && exec taskset -c "$server_cpus" env -u DATABASE_URL FLOTILLA_LISTEN="127.0.0.1:$port" \
  FLOTILLA_PUBLIC_URL="$base" RUST_LOG=warn "$SERVER" --dev >>"$work/server.log" 2>&1) &
pid=$!
for _ in $(seq 1 1200); do curl -sf -o /dev/null "$base/readyz" && break; sleep 0.1; done
curl -sf -o /dev/null "$base/readyz" || { cat "$work/server.log" >&2; exit 1; }

echo "== an access token through the device grant"
json() { python3 -c "import json,sys; print(json.load(sys.stdin)[\"$1\"])"; }
started=$(curl -sf -d client_id=flotilla-cli "$base/oauth/device_authorization")
device_code=$(echo "$started" | json device_code)
user_code=$(echo "$started" | json user_code)
jar="$work/cookies"
curl -sf -o /dev/null -c "$jar" -H "Origin: $base" -d return_to=/ "$base/login/dev"
curl -sf -o /dev/null -b "$jar" -H "Origin: $base" -d "user_code=$user_code" -d decision=approve "$base/device"
token=$(curl -sf -d grant_type=urn:ietf:params:oauth:grant-type:device_code -d client_id=flotilla-cli \
  -d "device_code=$device_code" "$base/oauth/token" | json access_token)
curl -sf -o /dev/null -H "Authorization: Bearer $token" "$base/api/v1/me"
echo "token obtained; /api/v1/me answers 200"

echo "== /api/v1/me vs /healthz (${ROUNDS} rounds of ${DURATION}s, ${CONNECTIONS} connections, wrk on CPU ${load_cpus}, server on CPU ${server_cpus})"
run() { # url [header]
  local args=(-t1 -c"$CONNECTIONS" -d"${DURATION}s")
  [ -n "${2:-}" ] && args+=(-H "$2")
  local out
  out=$(taskset -c "$load_cpus" wrk "${args[@]}" "$1")
  if echo "$out" | grep -q "Non-2xx"; then echo "non-2xx answers from $1:" >&2; echo "$out" >&2; exit 1; fi
  echo "$out" | awk '/Requests\/sec/ {print $2}'
}
ratios=()
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) -eq 1 ]; then
    h=$(run "$base/healthz"); m=$(run "$base/api/v1/me" "Authorization: Bearer $token")
  else
    m=$(run "$base/api/v1/me" "Authorization: Bearer $token"); h=$(run "$base/healthz")
  fi
  r=$(python3 -c "print(f'{$m / $h:.3f}')"); ratios+=("$r")
  echo "round $round: /healthz ${h} req/s, /api/v1/me ${m} req/s; ratio ${r}"
done
ratio=$(median "${ratios[@]}")
echo "median ratio /api/v1/me over /healthz: ${ratio} (target >= 0.50)"
python3 -c "import sys; ok = $ratio >= 0.50; print('PASS' if ok else 'FAIL', ': /api/v1/me throughput >= 50% of /healthz', sep=''); sys.exit(0 if ok else 1)"
