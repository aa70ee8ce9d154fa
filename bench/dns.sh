#!/usr/bin/env bash
# DNS benchmark (issue 7): failover latency with 1,000 hosts across 100 clusters, against a
# real PowerDNS and moto's Route53, and a full resync of 10,000 record sets to Route53.
#   1. from an agent's `healthy: false` report, and from a cluster crossing to offline, to the
#      provider acknowledging the change: p99 < 1 s (server-side: the change's learned_at to
#      completed_at, as `GET .../dns/changes` shows them);
#   2. from the report to `dig` answering without the endpoint (PowerDNS, TTL 1): < 2 s
#      (client-side: before the PUT to the first dig answer without it);
#   3. a full resync of 10,000 record sets: Route53 requests <= ceil(changes/1000) + one per
#      zone page (counted from the server's log), and its duration.
#
#   bench/dns.sh     # builds in release mode; needs tests/dns-peers (scripts/install-test-deps.sh)
#
# Each host is served by 3 clusters (in up to 3 of 4 regions); a cluster serves 30 hosts.
# The offline crossing is the sweeper's: the cluster's last heartbeat is set 2 hours back.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -q -p flotilla-server --bin flotilla-server
cargo build --release --locked -q -p flotilla-clusters --example agent_fixtures
. bench/lib.sh
FIXTURES="$target_dir/release/examples/agent_fixtures"
CLUSTERS=${BENCH_DNS_CLUSTERS:-100}
HOSTS=${BENCH_DNS_HOSTS:-1000}
RESYNC_HOSTS=${BENCH_DNS_RESYNC_HOSTS:-1430} # about 10,000 record sets
FAILOVERS=${BENCH_DNS_FAILOVERS:-50}
PROVIDERS=${BENCH_DNS_PROVIDERS:-pdns route53}
venv=tests/spiffe/.venv
peers=()
cleanup() { for p in "${peers[@]}"; do kill "$p" 2>/dev/null || true; done; stop_all; }
trap cleanup EXIT
export SERVER_RUST_LOG=warn,flotilla_dns=info
SILENT=(--cluster-stale-after 3000 --cluster-offline-after 3600)

account() { # sets token, api; makes fixtures for $base
  bench_account_token
  api="$base/api/v1/accounts/bench"
  rm -rf "$work/fx" && "$FIXTURES" "$base" c "$CLUSTERS" "$work/fx" >/dev/null
}
driver() { python3 bench/dns_driver.py "$@" --api "$api" --token "$token" --fx "$work/fx" \
  --pg-port "$pg_port" --domain bench.flotilla.localhost --clusters "$CLUSTERS"; }
stop_server() { kill -TERM "$pid" && wait "$pid" 2>/dev/null || true; pid=; }
fresh_database() { psql -c "DROP DATABASE flotilla WITH (FORCE)" -c "CREATE DATABASE flotilla"; }

echo "== Postgres (throwaway, default settings)"
start_postgres

if [[ " $PROVIDERS " == *" pdns "* ]]; then
echo "== PowerDNS"
dns_port=$(free_port) api_port=$(free_port)
bash tests/dns-peers/pdns.sh "$work/pdns" "$dns_port" "$api_port" bench-key >/dev/null 2>&1 &
peers+=($!)
for _ in $(seq 1 100); do curl -sf -o /dev/null -H 'X-API-Key: bench-key' "http://127.0.0.1:$api_port/api/v1/servers/localhost" && break; sleep 0.1; done
curl -sf -o /dev/null -H 'X-API-Key: bench-key' -H 'content-type: application/json' \
  -d '{"name":"flotilla.localhost.","kind":"Native"}' "http://127.0.0.1:$api_port/api/v1/servers/localhost/zones"
start_server --dns-provider pdns --pdns-api-url "http://127.0.0.1:$api_port/" --pdns-api-key bench-key "${SILENT[@]}"
account
driver seed --hosts "$HOSTS"
driver failover --provider pdns --hosts "$HOSTS" --rounds "$FAILOVERS" --dig-port "$dns_port"
stop_server
fi
[[ " $PROVIDERS " == *" route53 "* ]] || exit 0

echo "== moto (Route53)"
moto_port=$(free_port)
bash tests/dns-peers/moto.sh "$moto_port" >/dev/null 2>&1 &
peers+=($!)
for _ in $(seq 1 300); do curl -sf -o /dev/null "http://127.0.0.1:$moto_port/moto-api/" && break; sleep 0.1; done
export AWS_ENDPOINT_URL_ROUTE_53="http://127.0.0.1:$moto_port" AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench \
  AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
new_zone() { "$venv/bin/python" -c 'import boto3,uuid; print(boto3.client("route53").create_hosted_zone(Name="flotilla.localhost", CallerReference=str(uuid.uuid4()))["HostedZone"]["Id"].split("/")[-1])'; }
zone=$(new_zone)
fresh_database
start_server --dns-provider route53 --route53-hosted-zone-id "$zone" "${SILENT[@]}"
account
driver seed --hosts "$RESYNC_HOSTS"
driver failover --provider route53 --hosts "$HOSTS" --rounds "$FAILOVERS"
stop_server

# Full resync: the same plan, an empty zone (as after a provider-side loss), then the full zone
# again (a restart). Requests are counted from the reconciler's log lines.
requests() { # log-start-line -> "pages changes"
  tail -n +"$1" "$work/server.log" | python3 -c '
import re,sys
pages=changes=0
for line in sys.stdin:
    if "dns zone read" in line:
        m=re.search(r"requests\D{1,3}(\d+)", line); pages+=int(m.group(1)) if m else 0
    if "dns changes applied" in line: changes+=1
print(pages, changes)'
}
resync() { # zone label
  local from sets start took pages changes
  from=$(($(wc -l <"$work/server.log") + 1))
  start=$(date +%s.%N)
  start_server --dns-provider route53 --route53-hosted-zone-id "$1" "${SILENT[@]}"
  sleep 1
  until [ "$(psql -d flotilla -c "SELECT (SELECT count(*) FROM dns_dirty_hosts) + (SELECT count(*) FROM dns_changes WHERE status = 'pending')")" = 0 ] \
    && grep -q "dns zone read" <(tail -n +"$from" "$work/server.log"); do sleep 0.1; done
  took=$(python3 -c "import time; print(f'{time.time() - $start:.1f}')")
  sets=$(psql -d flotilla -c "SELECT count(*) FROM dns_record_sets WHERE zone = 'route53:$1' AND applied IS NOT NULL")
  read -r pages changes <<<"$(requests "$from")"
  echo "  $2: $sets record sets in sync after ${took} s (from start-up): $pages listing page(s) + $changes change request(s)"
  echo "     bound: ceil(changes/1000) + pages = $(python3 -c "import math; print(math.ceil($3/1000) + $pages)")"
  stop_server
}
echo "full resync (Route53, $RESYNC_HOSTS hosts):"
zone2=$(new_zone)
created=$(psql -d flotilla -c "SELECT count(*) FROM dns_record_sets WHERE zone = 'route53:$zone'")
resync "$zone2" "empty zone (every set created)" "$created"
resync "$zone2" "full zone (restart, nothing to change)" 0
