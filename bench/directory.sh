#!/usr/bin/env bash
# Directory benchmark (issue 6), with 10,000 clusters registered across 100 accounts (100 per
# account), every figure a ratio against a baseline measured in this run on this machine:
#   1. 64 agents revalidating their account's bundle map (`If-None-Match` -> 304), each with
#      its own reused assertion: >= 0.50 x /healthz throughput;
#   2. full 200 answers of a 100-cluster bundle map (same agents, no ETag): >= 0.25 x /healthz;
#   3. 5,000 concurrent long-polls of one account's map held with < 200 MiB resident memory
#      in flotilla-server, and one change answered to all of them within 1 s.
#
#   bench/directory.sh     # needs wrk; builds in release mode
#
# Postgres is a throwaway cluster started here. Rounds alternate the order of the sides and
# the median ratio is reported. Identity CAs and assertions come from the agent_fixtures
# example; the long-polls are held by the long_polls example.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -q -p flotilla-server --bin flotilla-server
cargo build --release --locked -q -p flotilla-clusters --example agent_fixtures
cargo build --release --locked -q -p flotilla-directory --example long_polls
. bench/lib.sh
ROUNDS=${BENCH_ROUNDS:-5}
ACCOUNTS=100
CLUSTERS=10000
AGENTS=64
LONG_POLLS=${BENCH_LONG_POLLS:-5000}
FIXTURES="$target_dir/release/examples/agent_fixtures"
LONG_POLL="$target_dir/release/examples/long_polls"
# Two sockets per long-poll (client and server) in this script's processes.
ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -gt $((LONG_POLLS + 1000)) ] || { echo "need more open files than $(ulimit -n) for $LONG_POLLS long-polls" >&2; exit 2; }

trap stop_all EXIT

echo "== Postgres (throwaway, default settings) and flotilla-server"
start_postgres
start_server

bulk=$((CLUSTERS - AGENTS))
echo "== $CLUSTERS clusters across $ACCOUNTS accounts ($bulk now, $AGENTS agents' clusters just before the rounds)"
"$FIXTURES" "$base" c "$bulk" "$work/fx" >/dev/null
python3 bench/seed_directory.py "$base" "$ACCOUNTS" "$work/fx" c "$bulk" "$work/tokens.json"
# Assertions live 300 s: the agents' are made now, for the timed part.
"$FIXTURES" "$base" agent "$AGENTS" "$work/agents" >/dev/null
python3 bench/seed_directory.py "$base" "$ACCOUNTS" "$work/agents" agent "$AGENTS" "$work/tokens.json"
total=$(psql -d flotilla -c "SELECT count(*) || ' clusters in ' || count(DISTINCT account_id) || ' accounts' FROM clusters")
echo "  $total"

# Agent i belongs to account d<i>: it reads its own account's map, with its map's ETag.
{
  echo "local agents = {}"
  for i in $(seq 0 $((AGENTS - 1))); do
    jwt=$(cat "$work/agents/agent-$i.jwt")
    tag=$(curl -sf -D - -o /dev/null -H "Authorization: Bearer $jwt" "$base/api/v1/accounts/d$i/bundles" \
      | awk 'tolower($1) == "etag:" {print $2}' | tr -d '\r')
    echo "agents[$((i + 1))] = { path = \"/api/v1/accounts/d$i/bundles\", auth = \"Bearer $jwt\", etag = '$tag' }"
  done
} >"$work/agents.lua"
# Requests are formatted once, in init: the load generator then only sends them in turn.
cat "$work/agents.lua" - >"$work/revalidate.lua" <<'EOF2'
local requests, n = {}, 0
init = function()
  for i, a in ipairs(agents) do
    requests[i] = wrk.format("GET", a.path, { ["Authorization"] = a.auth, ["If-None-Match"] = a.etag })
  end
end
request = function() n = n % #requests + 1; return requests[n] end
EOF2
cat "$work/agents.lua" - >"$work/full.lua" <<'EOF2'
local requests, n = {}, 0
init = function()
  for i, a in ipairs(agents) do requests[i] = wrk.format("GET", a.path, { ["Authorization"] = a.auth }) end
end
request = function() n = n % #requests + 1; return requests[n] end
EOF2
cat >"$work/healthz.lua" <<'EOF2'
local healthz
init = function() healthz = wrk.format("GET", "/healthz") end
request = function() return healthz end
EOF2
# Every agent's revalidation really is a 304 (wrk counts only 4xx/5xx as errors).
check_304() {
  for i in $(seq 0 $((AGENTS - 1))); do
    tag=$(sed -n "s/^agents\[$((i + 1))\] = .*etag = '\(.*\)' }$/\1/p" "$work/agents.lua")
    code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $(cat "$work/agents/agent-$i.jwt")" \
      -H "If-None-Match: $tag" "$base/api/v1/accounts/d$i/bundles")
    [ "$code" = 304 ] || { echo "agent $i revalidated with $code, not 304" >&2; exit 1; }
  done
}
map_bytes=$(curl -sf -H "Authorization: Bearer $(cat "$work/agents/agent-0.jwt")" "$base/api/v1/accounts/d0/bundles" | wc -c)
check_304

echo "== ${ROUNDS} rounds of ${DURATION}s, $AGENTS connections; wrk on CPU ${load_cpus}, server on CPU ${server_cpus}; a map is $map_bytes bytes"
revalidate=(); full=()
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) -eq 1 ]; then
    read -r h _ <<<"$(wrk_run "$AGENTS" "$work/healthz.lua" "$base")"
    read -r r _ <<<"$(wrk_run "$AGENTS" "$work/revalidate.lua" "$base")"
    read -r f _ <<<"$(wrk_run "$AGENTS" "$work/full.lua" "$base")"
  else
    read -r f _ <<<"$(wrk_run "$AGENTS" "$work/full.lua" "$base")"
    read -r r _ <<<"$(wrk_run "$AGENTS" "$work/revalidate.lua" "$base")"
    read -r h _ <<<"$(wrk_run "$AGENTS" "$work/healthz.lua" "$base")"
  fi
  revalidate+=("$(python3 -c "print(f'{$r / $h:.3f}')")")
  full+=("$(python3 -c "print(f'{$f / $h:.3f}')")")
  echo "round $round: /healthz ${h}/s; map revalidations (304) ${r}/s; full maps (200) ${f}/s"
done
check_304
revalidate_ratio=$(median "${revalidate[@]}"); full_ratio=$(median "${full[@]}")

echo "== $LONG_POLLS long-polls of account d0's map, then one change (agent-0 publishes JWT authorities)"
# A fresh assertion (the agents' may be near their 300 s), for a cluster of d0.
"$FIXTURES" "$base" lp 1 "$work/lp" >/dev/null
python3 bench/seed_directory.py "$base" "$ACCOUNTS" "$work/lp" lp 1 "$work/tokens.json" >/dev/null
lp_jwt=$(cat "$work/lp/lp-0.jwt")
# An RSA-free change: one EC key taken from the lp identity CA's JWK in the map.
curl -sf -H "Authorization: Bearer $lp_jwt" "$base/api/v1/accounts/d0/bundles" | python3 -c '
import json, sys
key = dict(json.load(sys.stdin)["trust_domains"]["lp-0"]["keys"][0])
print(json.dumps({"keys": [{"kty": "EC", "crv": key["crv"], "x": key["x"], "y": key["y"], "kid": "bench", "alg": "ES256"}]}))
' >"$work/change.json"
result=$(taskset -c "$load_cpus" "$LONG_POLL" "$base/api/v1/accounts/d0/bundles" "$lp_jwt" "$LONG_POLLS" "$pid" \
  "$base/api/v1/accounts/d0/clusters/lp-0/jwt-authorities" "$lp_jwt" "$work/change.json")
echo "  $result"

echo "median map revalidations (304) / healthz: ${revalidate_ratio} (target >= 0.50)"
echo "median full maps (200) / healthz:         ${full_ratio} (target >= 0.25)"
python3 - "$revalidate_ratio" "$full_ratio" "$LONG_POLLS" "$result" <<'EOF2'
import json, sys
revalidate, full = float(sys.argv[1]), float(sys.argv[2])
polls, lp = int(sys.argv[3]), json.loads(sys.argv[4])
print(f"long-polls: {lp['held']} held with {lp['rss_mib_held']:.0f} MiB resident ({lp['rss_mib_before']:.0f} MiB before them; peak {lp['rss_mib_peak']:.0f} MiB); "
      f"{lp['answered_200']} answered, the last one's headers {lp['last_headers_ms']:.0f} ms and last byte "
      f"{lp['last_body_ms']:.0f} ms after the change ({lp['map_bytes']} bytes each)")
checks = [
    (revalidate >= 0.50, "bundle map revalidation (304) >= 50% of /healthz"),
    (full >= 0.25, "full 100-cluster bundle maps >= 25% of /healthz"),
    (lp["held"] >= polls and lp["rss_mib_held"] < 200, f"{polls} long-polls held under 200 MiB resident"),
    (lp["answered_200"] == polls and lp["last_body_ms"] < 1000, "one change answered to all of them within 1 s"),
]
for ok, what in checks:
    print("PASS" if ok else "FAIL", ":", what)
sys.exit(0 if all(ok for ok, _ in checks) else 1)
EOF2
