#!/usr/bin/env bash
# Foundation benchmark (issue 3): start-up to /readyz with an initialised embedded database,
# idle resident memory, and /healthz throughput through the full middleware stack as a ratio
# of the same handler on bare axum, both measured here, side by side, in this run.
#
#   bench/foundation.sh            # needs wrk (apt-get install wrk); builds in release mode
#
# Server and load generator are pinned to different cores so they do not fight for one. The
# two servers are measured back to back in each round (alternating which goes first); each
# round gives a ratio of two runs made under the same conditions, and the median ratio over
# the rounds is reported, which shrugs off the rounds another tenant of the machine disturbed.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --locked -q -p flotilla-server --bin flotilla-server --example bare_healthz
. bench/lib.sh
BARE="$target_dir/release/examples/bare_healthz"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

now_ms() { date +%s%3N; }

wait_ok() { # url timeout_s [pid]
  local deadline=$(( $(now_ms) + $2 * 1000 ))
  until curl -sf -o /dev/null "$1"; do
    if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then
      echo "the server exited; its log:" >&2; cat "$work/server.log" >&2; return 1
    fi
    [ "$(now_ms)" -lt "$deadline" ] || { echo "timed out waiting for $1" >&2; return 1; }
    sleep 0.005
  done
}

start_flotilla() { # port
  (cd "$work" && exec taskset -c "$server_cpus" env -u DATABASE_URL FLOTILLA_LISTEN="127.0.0.1:$1" \
    "$SERVER" --dev >>"$work/server.log" 2>&1) &
  echo $!
}

stop() { kill -TERM "$1"; wait "$1" 2>/dev/null || true; }

echo "== start-up to /readyz 200 (embedded Postgres already initialised)"
port=$(free_port)
pid=$(start_flotilla "$port"); pids+=("$pid")
wait_ok "http://127.0.0.1:$port/readyz" 120 "$pid"   # first start: initdb
stop "$pid"
startups=()
for i in 1 2 3 4 5; do
  port=$(free_port)
  t0=$(now_ms)
  pid=$(start_flotilla "$port"); pids+=("$pid")
  wait_ok "http://127.0.0.1:$port/readyz" 30 "$pid"
  startups+=($(( $(now_ms) - t0 )))
  [ "$i" -lt 5 ] && stop "$pid"
done
startup_median=$(printf '%s\n' "${startups[@]}" | sort -n | sed -n 3p)
echo "runs (ms): ${startups[*]}; median ${startup_median} ms (target < 2000)"

echo "== idle resident memory of flotilla-server (Postgres excluded)"
sleep 2
rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
echo "VmRSS: $((rss_kib / 1024)) MiB (${rss_kib} KiB; target < 40 MiB)"
flotilla_port=$port

echo "== /healthz throughput: full stack vs bare axum (${ROUNDS} rounds of ${DURATION}s each, ${CONNECTIONS} connections, wrk on CPU ${load_cpus}, servers on CPU ${server_cpus})"
bare_port=$(free_port)
taskset -c "$server_cpus" "$BARE" "127.0.0.1:$bare_port" & bare_pid=$!; pids+=("$bare_pid")
wait_ok "http://127.0.0.1:$bare_port/healthz" 10
# One wrk run against pid $2: prints "<req/s> <server CPU µs per request>". CPU time comes from
# /proc (user + system ticks of the server process), so the second figure is immune to the
# wall-clock noise of a shared machine (stolen time, a slow load generator).
run() {
  local before after out requests
  before=$(awk '{print $14 + $15}' "/proc/$2/stat")
  out=$(taskset -c "$load_cpus" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$1")
  after=$(awk '{print $14 + $15}' "/proc/$2/stat")
  requests=$(echo "$out" | awk '/requests in/ {print $1}')
  echo "$(echo "$out" | awk '/Requests\/sec/ {print $2}') $(python3 -c "print(f'{($after - $before) * 1e6 / $(getconf CLK_TCK) / $requests:.2f}')")"
}
rate_ratios=(); cpu_ratios=()
for round in $(seq 1 "$ROUNDS"); do
  # Alternate which goes first, so neither always runs on a warmer or cooler machine.
  if [ $((round % 2)) -eq 1 ]; then
    read -r b bc <<<"$(run "http://127.0.0.1:$bare_port/healthz" "$bare_pid")"
    read -r f fc <<<"$(run "http://127.0.0.1:$flotilla_port/healthz" "$pid")"
  else
    read -r f fc <<<"$(run "http://127.0.0.1:$flotilla_port/healthz" "$pid")"
    read -r b bc <<<"$(run "http://127.0.0.1:$bare_port/healthz" "$bare_pid")"
  fi
  rr=$(python3 -c "print(f'{$f / $b:.3f}')"); cr=$(python3 -c "print(f'{$bc / $fc:.3f}')")
  rate_ratios+=("$rr"); cpu_ratios+=("$cr")
  echo "round $round: bare ${b} req/s (${bc} µs CPU/req), full stack ${f} req/s (${fc} µs CPU/req); ratios: req/s ${rr}, per CPU ${cr}"
done
ratio=$(median "${rate_ratios[@]}"); cpu_ratio=$(median "${cpu_ratios[@]}")
echo "median ratio full/bare over ${ROUNDS} rounds: ${ratio} in req/s, ${cpu_ratio} in requests per CPU-second (target >= 0.70)"
rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
echo "VmRSS after load: $((rss_after / 1024)) MiB"

python3 - "$startup_median" "$rss_kib" "$ratio" <<'PY'
import sys
startup, rss, ratio = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
checks = [("start-up < 2 s", startup < 2000), ("idle RSS < 40 MiB", rss < 40 * 1024), ("throughput ratio >= 0.70", ratio >= 0.70)]
for name, ok in checks:
    print(f"{'PASS' if ok else 'FAIL'}: {name}")
sys.exit(0 if all(ok for _, ok in checks) else 1)
PY
