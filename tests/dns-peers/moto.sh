#!/usr/bin/env bash
# Runs moto's server (an AWS emulator; the tests use its Route 53) in the foreground, for the
# DNS provider integration tests:
#
#   tests/dns-peers/moto.sh PORT
#
# Listens on http://127.0.0.1:PORT, all state in memory. Ready when GET /moto-api/ answers 200.
# moto picks the service from the SigV4 credential scope of the Authorization header
# (.../us-east-1/route53/aws4_request); it does not check signatures. POST /moto-api/reset
# forgets all state. Runs moto from tests/spiffe/.venv (or $DNS_PEERS_VENV), where
# scripts/install-test-deps.sh installs tests/dns-peers/requirements.txt.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 PORT" >&2
  exit 2
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
venv="${DNS_PEERS_VENV:-$root/tests/spiffe/.venv}"
if [ ! -x "$venv/bin/moto_server" ]; then
  echo "$venv/bin/moto_server not found (run scripts/install-test-deps.sh)" >&2
  exit 1
fi
export PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
# moto_server.py is moto's server with one fix (see there): DELETEs by set identifier.
exec "$venv/bin/python" "$root/tests/dns-peers/moto_server.py" -H 127.0.0.1 -p "$1"
