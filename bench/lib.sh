# Shared set-up of the benchmarks (sourced): settings, wrk, the release build, a work dir,
# free ports and the CPU split. Server and load generator are pinned to different cores so
# they do not fight for one.

DURATION=${BENCH_DURATION:-5}
ROUNDS=${BENCH_ROUNDS:-7}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 2; }

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
# BENCH_SERVER=<path> runs another build of the server (an earlier commit's, to compare before
# and after a change back to back on the same machine).
SERVER=${BENCH_SERVER:-"$target_dir/release/flotilla-server"}

# Traversable: as root, the embedded Postgres runs as the postgres user.
work=$(mktemp -d /var/tmp/flotilla-bench.XXXXXX)
chmod 755 "$work"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
median() { printf '%s\n' "$@" | python3 -c 'import sys,statistics; print(f"{statistics.median(float(x) for x in sys.stdin):.2f}")'; }
cpus=$(nproc)
server_cpus=$([ "$cpus" -ge 2 ] && echo "1-$((cpus - 1))" || echo 0)
load_cpus=0

# A throwaway Postgres with default settings (fsync on) in $work/pg, with databases
# `flotilla` and `pgbench`; sets pg_port and defines psql. Stopped by cleanup_postgres.
pgbin=$(dirname "$(command -v initdb 2>/dev/null || ls /usr/lib/postgresql/*/bin/initdb | tail -1)")
# As root, Postgres runs as the postgres user.
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
start_postgres() {
  pg_port=$(free_port)
  mkdir -p "$work/pg" && chmod 700 "$work/pg"
  [ "$(id -u)" -eq 0 ] && chown postgres "$work/pg"
  as_pg "$pgbin/initdb" -D "$work/pg" -U postgres -A trust >/dev/null
  as_pg "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg/log" -w \
    -o "-p $pg_port -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=200 ${BENCH_PG_OPTIONS:-}" start >/dev/null
  psql -c "CREATE DATABASE flotilla" -c "CREATE DATABASE pgbench"
}
psql() { command psql -h 127.0.0.1 -p "$pg_port" -U postgres -qAt "$@"; }
cleanup_postgres() {
  [ -d "$work/pg" ] && as_pg "$pgbin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
}
# Stops the server started by start_server and the Postgres, and removes the work dir.
pid=
stop_all() {
  [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  cleanup_postgres
  # For a post-mortem: BENCH_KEEP_LOGS=<dir> keeps the server's and Postgres's logs.
  [ -n "${BENCH_KEEP_LOGS:-}" ] && mkdir -p "$BENCH_KEEP_LOGS" \
    && cp "$work/server.log" "$BENCH_KEEP_LOGS/" 2>/dev/null && cp "$work/pg/log" "$BENCH_KEEP_LOGS/postgres.log" 2>/dev/null
  rm -rf "$work"
}

# flotilla-server in development mode on that Postgres, pinned to the server CPUs; sets
# port, base and pid, and waits until it is ready. Extra arguments go to the server.
start_server() {
  port=$(free_port)
  base="http://127.0.0.1:$port"
  (cd "$work" && exec taskset -c "$server_cpus" env DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/flotilla" \
    FLOTILLA_LISTEN="127.0.0.1:$port" FLOTILLA_PUBLIC_URL="$base" FLOTILLA_DEV=1 RUST_LOG="${SERVER_RUST_LOG:-warn}" \
    "$SERVER" "$@" >>"$work/server.log" 2>&1) &
  pid=$!
  for _ in $(seq 1 600); do curl -sf -o /dev/null "$base/readyz" && break; sleep 0.1; done
  curl -sf -o /dev/null "$base/readyz" || { cat "$work/server.log" >&2; exit 1; }
}

# The account `bench` and an owner's API token for it (valid a day), through the development
# sign-in of the server start_server started; sets token.
bench_account_token() {
  local jar="$work/cookies" expires
  curl -sf -o /dev/null -c "$jar" -H "Origin: $base" -d return_to=/ "$base/login/dev"
  curl -sf -o /dev/null -b "$jar" -H "Origin: $base" -H 'content-type: application/json' \
    -d '{"name":"bench"}' "$base/api/v1/accounts"
  expires=$(python3 -c 'import datetime; print((datetime.datetime.now(datetime.timezone.utc)+datetime.timedelta(days=1)).isoformat())')
  token=$(curl -sf -b "$jar" -H "Origin: $base" -H 'content-type: application/json' \
    -d "{\"name\":\"bench\",\"role\":\"owner\",\"expires_at\":\"$expires\"}" \
    "$base/api/v1/accounts/bench/tokens" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
}

# wrk with one thread on the load CPU for $DURATION seconds; fails on any 4xx/5xx answer.
wrk_run() { # connections script url -> "req/s p99_ms"
  local out
  out=$(taskset -c "$load_cpus" wrk -t1 -c"$1" -d"${DURATION}s" --latency -s "$2" "$3")
  if echo "$out" | grep -q "Non-2xx"; then echo "non-2xx answers from $3:" >&2; echo "$out" >&2; exit 1; fi
  local rps p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; print v}')
  echo "$rps $p99"
}
