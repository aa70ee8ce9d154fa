#!/usr/bin/env bash
# Regenerates .sqlx/, the offline data of the compile-time-checked queries (`sqlx::query!`),
# against a throwaway Postgres with every migration applied. Run it after changing a query or
# adding a migration, and commit .sqlx/ with the change.
#   scripts/sqlx-prepare.sh          rewrite .sqlx/
#   scripts/sqlx-prepare.sh --check  fail when .sqlx/ is stale (a CI step)
# Installs the pinned sqlx-cli when it is missing (about five minutes on two cores).
set -euo pipefail
cd "$(dirname "$0")/.."
SQLX_CLI_VERSION=0.8.6
mode=()
case "${1:-}" in
  "") ;;
  --check) mode=(--check) ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

if ! cargo sqlx --version 2>/dev/null | grep -qxF "sqlx-cli-sqlx $SQLX_CLI_VERSION"; then
  echo "installing sqlx-cli $SQLX_CLI_VERSION" >&2
  # Its own target directory: the workspace's is not cluttered with the tool's release build.
  CARGO_TARGET_DIR=/var/tmp/flotilla-sqlx-cli-target cargo install --locked --quiet \
    "sqlx-cli@$SQLX_CLI_VERSION" --no-default-features --features postgres,rustls
fi

# A throwaway Postgres in a temp dir, on a free port; as root it runs as the postgres user.
pgbin=$(dirname "$(command -v initdb 2>/dev/null || ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
work=$(mktemp -d /var/tmp/flotilla-sqlx.XXXXXX)
chmod 755 "$work"
mkdir -m 700 "$work/pg"
[ "$(id -u)" -eq 0 ] && chown postgres "$work/pg"
stop() {
  as_pg "$pgbin/pg_ctl" -D "$work/pg" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap stop EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
as_pg "$pgbin/initdb" -D "$work/pg" -U postgres -A trust >/dev/null
as_pg "$pgbin/pg_ctl" -D "$work/pg" -l "$work/pg/log" -w \
  -o "-p $port -k $work/pg -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null

export DATABASE_URL="postgres://postgres@127.0.0.1:$port/flotilla"
cargo sqlx database create
cargo sqlx migrate run --source migrations >/dev/null
# Every target of every crate (the integration tests and benchmarks hold queries too), with
# every feature, as clippy builds them.
cargo sqlx prepare --workspace "${mode[@]}" -- --all-targets --all-features --locked
