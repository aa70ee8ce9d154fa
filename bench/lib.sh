# Shared set-up of the benchmarks (sourced): settings, wrk, the release build, a work dir,
# free ports and the CPU split. Server and load generator are pinned to different cores so
# they do not fight for one.

DURATION=${BENCH_DURATION:-5}
ROUNDS=${BENCH_ROUNDS:-7}
CONNECTIONS=${BENCH_CONNECTIONS:-32}
command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 2; }

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')
SERVER="$target_dir/release/flotilla-server"

# Traversable: as root, the embedded Postgres runs as the postgres user.
work=$(mktemp -d /var/tmp/flotilla-bench.XXXXXX)
chmod 755 "$work"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
median() { printf '%s\n' "$@" | python3 -c 'import sys,statistics; print(f"{statistics.median(float(x) for x in sys.stdin):.2f}")'; }
cpus=$(nproc)
server_cpus=$([ "$cpus" -ge 2 ] && echo "1-$((cpus - 1))" || echo 0)
load_cpus=0
