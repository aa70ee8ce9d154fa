#!/usr/bin/env bash
# Regenerates the API clients from openapi/openapi.json:
#   clients/typescript/src/schema.d.ts   openapi-typescript (the types openapi-fetch calls with)
#   clients/python/                      openapi-python-client (package flotilla_client)
#
#   scripts/generate-clients.sh           write them
#   scripts/generate-clients.sh --check   fail if the committed ones differ from a fresh run
#
# The generators are pinned: clients/typescript/package-lock.json, clients/requirements.txt
# (scripts/install-client-tools.sh installs them on first use).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
check=false
[ "${1:-}" = "--check" ] && check=true

"$root/scripts/install-client-tools.sh"
ts="$root/clients/typescript"
venv="$root/clients/.venv"

out="$root/clients"
if $check; then
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
  mkdir -p "$out/typescript/src"
fi

(cd "$ts" && node_modules/.bin/openapi-typescript "$root/openapi/openapi.json" -o "$out/typescript/src/schema.d.ts" >/dev/null)
# ruff (the generator's formatter) must be on PATH.
PATH="$venv/bin:$PATH" "$venv/bin/openapi-python-client" generate --path "$root/openapi/openapi.json" \
  --config "$root/clients/python-config.yaml" --output-path "$out/python" --overwrite >/dev/null
rm -rf "$out/python/.ruff_cache"

if $check; then
  stale=0
  diff -q "$out/typescript/src/schema.d.ts" "$ts/src/schema.d.ts" >/dev/null || { echo "clients/typescript/src/schema.d.ts is stale" >&2; stale=1; }
  diff -rq "$out/python" "$root/clients/python" >&2 || { echo "clients/python is stale" >&2; stale=1; }
  if [ $stale -ne 0 ]; then
    echo "regenerate the clients with scripts/generate-clients.sh and commit them" >&2
    exit 1
  fi
  echo "clients: current"
fi
