#!/usr/bin/env bash
# flotilla-agent benchmark (issue 20): the release agent against kmock's Kubernetes API
# emulator and a release flotilla-server on a throwaway Postgres, with PowerDNS.
#   1. an Ingress's load-balancer address changed -> accepted by Flotilla: p99 < 200 ms;
#      -> answered by PowerDNS: p99 < 1 s (each beside the measuring apparatus's own floor);
#   2. a cluster's agent killed -> its address gone from dig: < 10 s with default settings;
#   3. a restart over 1,000 Ingresses: at most 2 requests to Flotilla, the resync < 1 s;
#   4. resident memory watching 1,000 Ingresses: < 40 MiB; the binary stripped: < 25 MiB.
#
#   bench/agent.sh     # builds in release mode; needs tests/spiffe/.venv (scripts/install-test-deps.sh)
#
# BENCH_AGENT_ROUNDS (5) rounds of BENCH_AGENT_CHANGES (20) address changes, BENCH_AGENT_FAILOVERS
# (5) kills, BENCH_AGENT_RESYNCS (3) restarts.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -q -p flotilla-server --bin flotilla-server
cargo build --release --locked -q -p flotilla-agent
. bench/lib.sh
AGENT="$target_dir/release/flotilla-agent"
peers=()
cleanup() { for p in "${peers[@]}"; do kill "$p" 2>/dev/null || true; done; stop_all; }
trap cleanup EXIT

echo "== binary"
cp "$AGENT" "$work/flotilla-agent" && strip "$work/flotilla-agent"
python3 - "$AGENT" "$work/flotilla-agent" <<'PY'
import os, sys
built, stripped = (os.path.getsize(p) / 2**20 for p in sys.argv[1:])
print(f"flotilla-agent: {stripped:.1f} MiB stripped ({built:.1f} MiB as built); budget 25 MiB: "
      f"{'met' if stripped < 25 else 'MISSED'}")
PY

echo "== Postgres, PowerDNS, flotilla-server (default cluster and DNS settings)"
start_postgres
dns_port=$(free_port) api_port=$(free_port)
bash tests/dns-peers/pdns.sh "$work/pdns" "$dns_port" "$api_port" bench-key >/dev/null 2>&1 &
peers+=($!)
for _ in $(seq 1 100); do curl -sf -o /dev/null -H 'X-API-Key: bench-key' "http://127.0.0.1:$api_port/api/v1/servers/localhost" && break; sleep 0.1; done
start_server --dns-provider pdns --pdns-api-url "http://127.0.0.1:$api_port/" --pdns-api-key bench-key
bench_account_token

tests/spiffe/.venv/bin/python bench/agent_driver.py --flotilla "$base" --token "$token" \
  --dns-port "$dns_port" --agent "$AGENT" --agent-cpus "$load_cpus" \
  --rounds "${BENCH_AGENT_ROUNDS:-5}" --changes "${BENCH_AGENT_CHANGES:-20}" \
  --failovers "${BENCH_AGENT_FAILOVERS:-5}" --resyncs "${BENCH_AGENT_RESYNCS:-3}"
