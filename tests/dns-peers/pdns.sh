#!/usr/bin/env bash
# Runs a throwaway PowerDNS Authoritative Server (Debian's pdns-server with the gsqlite3
# backend) in the foreground, for the DNS provider integration tests:
#
#   tests/dns-peers/pdns.sh DIR DNS_PORT API_PORT API_KEY
#
# DIR is created (an existing DIR gets a fresh database and config). DNS on
# 127.0.0.1:DNS_PORT (UDP and TCP), HTTP API on 127.0.0.1:API_PORT (header X-API-Key).
# Ready when GET http://127.0.0.1:API_PORT/api/v1/servers/localhost (with the key) answers 200.
# All caches are off, so an answer changes as soon as an API PATCH has returned.
# Runs as the calling user; SIGTERM or SIGKILL stops it at once, and nothing in DIR is worth
# keeping. Installed by scripts/install-test-deps.sh.
set -euo pipefail

if [ $# -ne 4 ]; then
  echo "usage: $0 DIR DNS_PORT API_PORT API_KEY" >&2
  exit 2
fi
dir="$1" dns_port="$2" api_port="$3" api_key="$4"

server="$(command -v pdns_server || true)"
[ -n "$server" ] || { [ -x /usr/sbin/pdns_server ] && server=/usr/sbin/pdns_server; }
if [ -z "$server" ]; then
  echo "pdns_server not found (run scripts/install-test-deps.sh)" >&2
  exit 1
fi
schema=""
for f in /usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql \
  /usr/share/doc/pdns-backend-sqlite3/schema.sqlite3.sql; do
  if [ -f "$f" ]; then schema="$f"; break; fi
done
if [ -z "$schema" ]; then
  echo "the gsqlite3 schema was not found (is pdns-backend-sqlite3 installed?)" >&2
  exit 1
fi

mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
rm -f "$dir/pdns.sqlite3" "$dir/pdns.sqlite3-wal" "$dir/pdns.sqlite3-shm" "$dir/pdns.sqlite3-journal"
python3 - "$dir/pdns.sqlite3" "$schema" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
with open(sys.argv[2]) as f:
    db.executescript(f.read())
db.close()
PY

# The control socket's path must fit a UNIX socket address (107 bytes): a long DIR gets one
# in a short directory of its own under /tmp instead (left behind when it stops).
socket_dir="$dir"
if [ ${#dir} -gt 80 ]; then # DIR/pdns.controlsocket must stay under 107 bytes
  socket_dir="$(mktemp -d /tmp/pdns-sock.XXXXXX)"
fi

cat >"$dir/pdns.conf" <<CONF
# Written by tests/dns-peers/pdns.sh: a throwaway server for tests.
launch=gsqlite3
gsqlite3-database=$dir/pdns.sqlite3
gsqlite3-pragma-synchronous=0
local-address=127.0.0.1
local-port=$dns_port
api=yes
api-key=$api_key
webserver=yes
webserver-address=127.0.0.1
webserver-port=$api_port
webserver-allow-from=127.0.0.1
webserver-loglevel=none
daemon=no
guardian=no
socket-dir=$socket_dir
write-pid=no
disable-syslog=yes
log-timestamp=no
loglevel=4
# Offline: no security-status lookups in DNS.
security-poll-suffix=
# No caches anywhere: an answer reflects the database at once.
cache-ttl=0
query-cache-ttl=0
negquery-cache-ttl=0
zone-cache-refresh-interval=0
zone-metadata-cache-ttl=0
dnssec-key-cache-ttl=0
consistent-backends=yes
# Small: one backend thread and one receiver.
distributor-threads=1
receiver-threads=1
CONF

exec "$server" --config-dir="$dir"
