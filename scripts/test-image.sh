#!/usr/bin/env bash
# Builds the server and agent images from the Dockerfile with podman and runs them as a user
# would (no Docker engine and no registry here: Debian's podman with runc, host networking).
#
#   scripts/test-image.sh            the debug binaries the tests built (CI)
#   IMAGE_PROFILE=release scripts/test-image.sh   release binaries (the size the README gives)
#
# - The base: Debian's own packages (mmdebstrap --variant=minbase), imported as
#   debian:bookworm-slim, so that the Dockerfile's runtime stages are really built; the
#   binaries come from the build context (--build-arg BINARIES=prebuilt), not compiled again.
# - The server image runs read-only, as its non-root user, against a throwaway Postgres on the
#   host: /readyz 200, its own health check (HEALTHCHECK, run by podman) healthy, the console
#   served (the log-in page and an asset), the environment docker-compose.yml gives its
#   flotilla service accepted, SIGTERM → exit 0 within the grace period. `podman inspect`
#   shows the OCI labels, the user and the exposed port; the filesystem has no shell and no
#   package manager. The agent image's binary runs (its libraries are there).
# - Prints each image's size.
# Needs root (podman with runc, CONTAINERS_CONF as the issue describes) and Debian's apt.
set -euo pipefail
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$repo"
die() { echo "image: error: $*" >&2; exit 1; }
say() { echo "image: $*"; }

[ "$(id -u)" -eq 0 ] || die "needs root (podman with runc)"
missing=()
for tool in podman runc mmdebstrap curl; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" uidmap >/dev/null
fi

work=$(mktemp -d)
# The throwaway Postgres runs as the postgres user, which must reach its directory.
chmod 0755 "$work"
pg_pid=
cleanup() {
  podman rm -f flotilla-image-test >/dev/null 2>&1 || true
  [ -n "$pg_pid" ] && kill "$pg_pid" 2>/dev/null || true
  rm -rf "$work"
  rm -f packaging/prebuilt/flotilla-server packaging/prebuilt/flotilla-agent
}
trap cleanup EXIT
# crun fails on this kernel's hybrid cgroups; runc with cgroupfs and no default ulimits works.
cat >"$work/containers.conf" <<'CONF'
[containers]
default_ulimits = []
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
CONF
export CONTAINERS_CONF=$work/containers.conf

base=docker.io/library/debian:bookworm-slim
if ! podman image exists "$base"; then
  say "making $base from Debian's packages (mmdebstrap --variant=minbase bookworm)"
  mmdebstrap --quiet --variant=minbase bookworm "$work/base.tar"
  podman import --quiet "$work/base.tar" "$base" >/dev/null
  rm -f "$work/base.tar"
fi

profile=${IMAGE_PROFILE:-debug}
target=${CARGO_TARGET_DIR:-target}
if [ "$profile" = release ]; then
  cargo build --quiet --locked --release -p flotilla-server -p flotilla-agent
else
  cargo build --quiet --locked -p flotilla-server -p flotilla-agent
fi
for binary in flotilla-server flotilla-agent; do
  # Debug information is not what an image ships.
  objcopy --strip-debug "$target/$profile/$binary" "packaging/prebuilt/$binary"
done

commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
# No cached layers: podman 4.3 reuses a cached LABEL layer whose build argument changed (an
# unchanged binary's image would keep the last build's revision).
build() { # TARGET TAG
  podman build --quiet --no-cache --network=host --pull=never --format docker \
    --build-arg BINARIES=prebuilt --build-arg FLOTILLA_COMMIT="$commit" \
    --target "$1" -t "$2" . >/dev/null
}
say "building the server and agent images ($profile binaries)"
build server localhost/flotilla-server:test
build agent localhost/flotilla-agent:test

# --- what podman inspect shows ------------------------------------------------------------------

inspect() { podman image inspect --format "$2" "$1"; }
for image in flotilla-server flotilla-agent; do
  ref=localhost/$image:test
  [ "$(inspect "$ref" '{{.Config.User}}')" = "10001:10001" ] || die "$image does not run as 10001:10001"
  [ "$(inspect "$ref" '{{index .Labels "org.opencontainers.image.title"}}')" = "$image" ] ||
    die "$image lacks org.opencontainers.image.title"
  [ "$(inspect "$ref" '{{index .Labels "org.opencontainers.image.licenses"}}')" = "Apache-2.0" ] ||
    die "$image lacks org.opencontainers.image.licenses"
  [ "$(inspect "$ref" '{{index .Labels "org.opencontainers.image.revision"}}')" = "$commit" ] ||
    die "$image lacks org.opencontainers.image.revision"
  podman create --no-healthcheck --name flotilla-image-files "$ref" >/dev/null
  podman export flotilla-image-files | tar -t >"$work/$image.files"
  podman rm flotilla-image-files >/dev/null
  # The listing names files as `usr/local/bin/...`: the binary is there, so a missing shell
  # below is really missing.
  grep -qx "usr/local/bin/$image" "$work/$image.files" || die "$image's files do not list its binary"
  for forbidden in bin/sh bin/bash usr/bin/sh usr/bin/dash usr/bin/bash usr/bin/apt usr/bin/dpkg usr/bin/wget; do
    if grep -qx "$forbidden" "$work/$image.files"; then die "$image holds $forbidden"; fi
  done
  compressed=$(podman save "$ref" 2>/dev/null | gzip -c | wc -c)
  say "$image: $(inspect "$ref" '{{.Size}}' | awk '{printf "%.1f MB", $1 / 1000000}') ($(awk -v b="$compressed" 'BEGIN {printf "%.1f MB", b / 1000000}') compressed), user 10001, labels, no shell or package manager"
done
inspect localhost/flotilla-server:test '{{json .Config.ExposedPorts}}' | grep -q '"8080/tcp"' ||
  die "the server image does not expose 8080"
inspect localhost/flotilla-agent:test '{{json .Config.ExposedPorts}}' | grep -q '"9090/tcp"' ||
  die "the agent image does not expose 9090"
podman run --rm --network=host localhost/flotilla-agent:test --version >/dev/null ||
  die "the agent's binary does not run in its image"

# --- the server, run ----------------------------------------------------------------------------

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
pg_port=$(free_port)
install -d -o postgres -g postgres "$work/pg"
runuser -u postgres -- "$pg_bin/initdb" -D "$work/pg/data" -U postgres --auth=trust >/dev/null
runuser -u postgres -- "$pg_bin/postgres" -D "$work/pg/data" -p "$pg_port" -k "$work/pg" \
  -c listen_addresses=127.0.0.1 -c fsync=off >"$work/pg.log" 2>&1 &
pg_pid=$!
for _ in $(seq 50); do
  runuser -u postgres -- "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" && break
  sleep 0.2
done
runuser -u postgres -- "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" ||
  { cat "$work/pg.log" >&2; die "the throwaway Postgres did not start"; }

# The environment docker-compose.yml gives its flotilla service (rendered by Docker Compose
# with .env.example), with the database and the port of this host.
compose_env=$("$repo/scripts/validate-packaging.sh" --print-server-env)
http_port=$(free_port)
env_args=()
while IFS= read -r line; do
  case "$line" in
    # This host's database and port; a real wrapping secret, as .env.example tells its users
    # to make; the database service's own settings are not the server's.
    DATABASE_URL=* | FLOTILLA_LISTEN=* | FLOTILLA_PUBLIC_URL=* | POSTGRES_* | PDNS_* | \
      FLOTILLA_HTTP_PORT=* | FLOTILLA_SIGNING_KEY_WRAPPING_SECRET=*) ;;
    [A-Z]*=*) env_args+=(-e "$line") ;;
  esac
done <<<"$compose_env"
env_args+=(-e "FLOTILLA_SIGNING_KEY_WRAPPING_SECRET=$(head -c 32 /dev/urandom | base64)")
[ ${#env_args[@]} -gt 0 ] || die "docker-compose.yml gives flotilla no environment"
podman run -d --name flotilla-image-test --network=host --read-only --tmpfs /tmp \
  "${env_args[@]}" \
  -e DATABASE_URL="postgres://postgres@127.0.0.1:$pg_port/postgres" \
  -e FLOTILLA_LISTEN="127.0.0.1:$http_port" \
  -e FLOTILLA_PUBLIC_URL="http://127.0.0.1:$http_port" \
  localhost/flotilla-server:test >/dev/null
url=http://127.0.0.1:$http_port
ready=
for _ in $(seq 120); do
  if curl -fsS -o /dev/null "$url/readyz" 2>/dev/null; then ready=yes; break; fi
  sleep 0.5
done
[ -n "$ready" ] || die "the server did not become ready: $(podman logs flotilla-image-test 2>&1 | tail -20)"
say "server: ready, read-only, as $(podman exec flotilla-image-test /usr/local/bin/flotilla-server --version 2>/dev/null || echo '?')"
podman healthcheck run flotilla-image-test >/dev/null ||
  die "the image's health check (flotilla-server healthcheck) failed"
# The console sends a visitor to log in; the log-in page is HTML with the console's stylesheet
# (503 here: docker-compose.yml names no OpenID provider unless its demo profile runs Dex),
# and that stylesheet and the API reference are served from the binary.
console=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$url/console")
case "$console" in
  30[23]\ */login*) ;;
  *) die "GET /console answered $console, not a redirect to /login" ;;
esac
curl -s "$url/login" >"$work/login.html"
grep -qi "<html" "$work/login.html" || die "the log-in page is not HTML: $(head -c 300 "$work/login.html")"
asset=$(grep -oE '/assets/[^"]+\.css' "$work/login.html" | head -1)
[ -n "$asset" ] || die "the log-in page links no stylesheet"
curl -fsS -o /dev/null "$url$asset" || die "the console's stylesheet $asset is not served"
curl -fsS "$url/docs/" | grep -qi "swagger" || die "the API reference (/docs/) is not served"
say "server: health check healthy; console → log-in page, its stylesheet and /docs/ served"

started=$(date +%s)
podman stop --time 30 flotilla-image-test >/dev/null
took=$(( $(date +%s) - started ))
code=$(podman inspect --format '{{.State.ExitCode}}' flotilla-image-test)
[ "$code" = 0 ] || die "SIGTERM: the server exited with $code: $(podman logs flotilla-image-test 2>&1 | tail -5)"
[ "$took" -lt 25 ] || die "SIGTERM: the server took ${took}s to stop (grace period 20 s)"
podman logs flotilla-image-test 2>&1 | grep -q '"level":"ERROR"' &&
  die "the server logged errors: $(podman logs flotilla-image-test 2>&1 | grep '"level":"ERROR"' | head -3)"
say "server: SIGTERM → exit 0 in ${took}s"
say "ok"
