#!/usr/bin/env bash
# cargo-deny over the workspace: licences, bans, sources and RustSec advisories (deny.toml).
# The advisories come from the snapshot in ../shared/rustsec-advisory-db (these machines
# cannot reach the online database; set ADVISORY_DB to use another copy): it is laid out where
# cargo-deny looks for its database, as a git repository committed at the snapshot's date, so
# that cargo-deny reads it without fetching and judges its age right. cargo-deny itself is
# installed from crates.io (pinned) when missing.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"

version=0.20.2
if ! cargo deny --version 2>/dev/null | grep -qx "cargo-deny $version"; then
  echo "deny: installing cargo-deny $version"
  # Built apart from the workspace, so that its build does not disturb the workspace's cache.
  CARGO_TARGET_DIR="${TMPDIR:-/tmp}/flotilla-cargo-deny-build" \
    cargo install --quiet --locked "cargo-deny@$version"
fi

source=${ADVISORY_DB:-$repo/../shared/rustsec-advisory-db}
[ -d "$source/crates" ] || { echo "deny: no advisory database at $source" >&2; exit 1; }
# deny.toml's db-path; the directory name is cargo-deny's for the default database URL.
db="$repo/.flotilla/advisory-dbs/advisory-db-3157b0e258782691"
snapshot_date=$(grep -oE '[0-9]{4}-[0-9]{2}-[0-9]{2}' "$source/SNAPSHOT" | head -1)
stamp="$(cat "$source/SNAPSHOT" 2>/dev/null)"
if [ ! -f "$db/.flotilla-snapshot" ] || [ "$(cat "$db/.flotilla-snapshot")" != "$stamp" ]; then
  rm -rf "$db"
  mkdir -p "$db"
  cp -R "$source/." "$db/"
  export GIT_AUTHOR_DATE="${snapshot_date}T00:00:00Z" GIT_COMMITTER_DATE="${snapshot_date}T00:00:00Z"
  git -C "$db" init -q
  git -C "$db" add -A
  git -C "$db" -c user.name=flotilla -c user.email=ci@flotilla.invalid commit -q -m "snapshot $snapshot_date"
  printf '%s' "$stamp" >"$db/.flotilla-snapshot"
fi

# cargo metadata needs every platform's crates on disk to run offline.
cargo fetch --locked --quiet
cargo deny --offline --locked check --show-stats
