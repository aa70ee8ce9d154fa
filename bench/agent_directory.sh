#!/usr/bin/env bash
# flotilla-agent's directory half (issue 21): 500 Kubeconfigs and 500 TrustedIdentityProviders
# in one cluster (kmock's emulator), resolved by the release agent against a release
# flotilla-server on a throwaway Postgres; a workload cluster's CA rotation reflected in
# every affected resource within 1 s (p99), through one long-poll, with no request per
# resource. See bench/agent_directory_driver.py for what is measured against what.
#
#   bench/agent_directory.sh     # builds in release mode; needs tests/spiffe/.venv (scripts/install-test-deps.sh)
#
# BENCH_DIRECTORY_CLUSTERS (500) workload clusters, BENCH_DIRECTORY_ROTATIONS (20) rotations.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -q -p flotilla-server --bin flotilla-server
cargo build --release --locked -q -p flotilla-agent
cargo build --release --locked -q -p flotilla-clusters --example agent_fixtures
. bench/lib.sh
AGENT="$target_dir/release/flotilla-agent"
FIXTURES="$target_dir/release/examples/agent_fixtures"
CLUSTERS=${BENCH_DIRECTORY_CLUSTERS:-500}
trap stop_all EXIT

echo "== Postgres, flotilla-server"
start_postgres
start_server
bench_account_token
# Identity CAs (w), their second ones for the rotations (r), and API-server CAs (s).
for prefix in w r s; do "$FIXTURES" "$base" "$prefix" "$CLUSTERS" "$work/fx" >/dev/null; done

tests/spiffe/.venv/bin/python bench/agent_directory_driver.py --flotilla "$base" --token "$token" \
  --agent "$AGENT" --agent-cpus "$load_cpus" --fixtures "$work/fx" \
  --clusters "$CLUSTERS" --rotations "${BENCH_DIRECTORY_ROTATIONS:-20}"

