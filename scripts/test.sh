#!/usr/bin/env bash
# The whole test suite: installs what is missing, then runs every crate's tests against real
# peers (a throwaway Postgres per test binary, Chromium). Set DATABASE_URL (a superuser URL)
# to use an existing Postgres instead of a throwaway one.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
# The CLI and agent tests (in flotilla-server's suite) run the `flotilla` and `flotilla-agent`
# binaries: build them first.
cargo build --locked -p flotilla-cli -p flotilla-agent
# The one ignored test needs root (Postgres running as another user than the one who owns
# the checkout); as root, ignored tests run too.
args=("$@")
if [ "$(id -u)" -eq 0 ]; then
  case " $* " in
    *" -- "*) args+=(--include-ignored) ;;
    *) args+=(-- --include-ignored) ;;
  esac
fi
exec cargo test --workspace --locked "${args[@]}"
