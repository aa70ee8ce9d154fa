# Sourced by the install scripts: `npm_ci DIR LABEL` runs `npm ci` in DIR when its
# node_modules is missing or older than its package files; quiet unless it fails.
npm_ci() {
  local dir="$1" label="$2"
  local installed="$dir/node_modules/.package-lock.json" # written by npm ci
  if [ -f "$installed" ] && [ ! "$dir/package-lock.json" -nt "$installed" ] && [ ! "$dir/package.json" -nt "$installed" ]; then
    return 0
  fi
  echo "installing npm packages in $label"
  local out
  if ! out="$(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error 2>&1)"; then
    printf '%s\n' "$out" >&2
    echo "npm ci failed in $label" >&2
    exit 1
  fi
}
