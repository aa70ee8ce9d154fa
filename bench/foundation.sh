#!/usr/bin/env bash
# Foundation benchmark (issue 3): start-up to /readyz with an initialised embedded database,
# idle resident memory, and /healthz throughput through the full middleware stack as a ratio
# of the same handler on bare axum, both measured here, side by side, in this run.
#
#   bench/foundation.sh            # needs wrk (apt-get install wrk); builds in release mode
#
# Server and load generator are pinned to different cores so they do not fight for one; the
# two servers are measured alternately, three times each, and the best run of each is compared
# (the best run is the one least disturbed by whatever else the machine was doing).
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${BENCH_DURATION:-10}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 2; }

cargo build --release --locked -q -p flotilla-server --bin flotilla-server --example bare_healthz
target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
SERVER="$target_dir/release/flotilla-server"
BARE="$target_dir/release/examples/bare_healthz"

# Traversable: as root, the embedded Postgres runs as the postgres user.
work=$(mktemp -d /var/tmp/flotilla-bench.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
now_ms() { date +%s%3N; }
cpus=$(nproc)
server_cpus=$([ "$cpus" -ge 2 ] && echo "1-$((cpus - 1))" || echo 0)
load_cpus=0

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

echo "== /healthz throughput: full stack vs bare axum (${DURATION}s, ${CONNECTIONS} connections, wrk on CPU ${load_cpus}, servers on CPU ${server_cpus})"
bare_port=$(free_port)
taskset -c "$server_cpus" "$BARE" "127.0.0.1:$bare_port" & pids+=($!)
wait_ok "http://127.0.0.1:$bare_port/healthz" 10
rps() { taskset -c "$load_cpus" wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "$1" | awk '/Requests\/sec/ {print $2}'; }
best_bare=0; best_full=0
for round in 1 2 3; do
  b=$(rps "http://127.0.0.1:$bare_port/healthz"); f=$(rps "http://127.0.0.1:$flotilla_port/healthz")
  echo "round $round: bare ${b} req/s, full stack ${f} req/s"
  best_bare=$(python3 -c "print(max($best_bare, $b))"); best_full=$(python3 -c "print(max($best_full, $f))")
done
ratio=$(python3 -c "print(f'{$best_full / $best_bare:.2f}')")
echo "ratio full/bare: ${ratio} (target >= 0.70)"
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
