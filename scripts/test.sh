#!/usr/bin/env bash
# The whole test suite: installs what is missing, then runs every crate's tests against real
# peers (a throwaway Postgres per test binary, Chromium). Set DATABASE_URL (a superuser URL)
# to use an existing Postgres instead of a throwaway one.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-test-deps.sh
# The CLI tests (in flotilla-server's suite) run the `flotilla` binary: build it first.
cargo build --locked -p flotilla-cli
exec cargo test --workspace --locked "$@"
