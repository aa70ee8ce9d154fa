#!/usr/bin/env bash
# Installs the API clients' tools, pinned: clients/typescript's npm packages (openapi-typescript,
# openapi-fetch, TypeScript) and clients/.venv (openapi-python-client, ruff, and with them what
# the generated Python client needs: httpx, attrs). Used by generate-clients.sh and
# install-test-deps.sh (the tests exercise both clients). Idempotent.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# shellcheck source=scripts/npm-ci.sh
source "$root/scripts/npm-ci.sh"
npm_ci "$root/clients/typescript" clients/typescript

venv="$root/clients/.venv"
if [ ! -f "$venv/installed" ] || [ "$root/clients/requirements.txt" -nt "$venv/installed" ]; then
  echo "installing Python packages in clients/.venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  if ! out="$("$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/clients/requirements.txt" 2>&1)"; then
    printf '%s\n' "$out" >&2
    echo "pip install failed in clients/.venv" >&2
    exit 1
  fi
  touch "$venv/installed"
fi
