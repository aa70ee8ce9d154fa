# syntax=docker/dockerfile:1
#
# Two images from one release build, each on a distroless-style root filesystem made from
# Debian's packages (the C library the binaries link, the CA bundle, a user: no shell, no
# package manager), running as a non-root user:
# - flotilla-server, the default target (the last stage, `server`). Postgres is not included:
#   set DATABASE_URL (docker-compose.yml does).
# - flotilla-agent, the in-cluster agent (`--target agent`), which deploy/agent runs.
#
#   docker build -t flotilla-server .
#   docker run --rm -p 8080:8080 -e DATABASE_URL=postgres://user:password@host:5432/db flotilla-server
#   docker build --target agent -t flotilla-agent .
#
# With `--build-arg BINARIES=prebuilt`, the binaries are taken from packaging/prebuilt/
# instead of being compiled (scripts/test-image.sh, in CI, which has built them already).
#
# Needs BuildKit (the default builder of current Docker) for the cache mounts below.
# Checked without a Docker engine by scripts/validate-packaging.sh, and built and run with
# podman by scripts/test-image.sh.

# The builder and the runtimes must share a Debian release: the binaries link the builder's glibc.
ARG RUST_VERSION=1
ARG DEBIAN_RELEASE=bookworm
# Where the binaries come from: `build` (compiled below) or `prebuilt` (packaging/prebuilt/).
ARG BINARIES=build

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
WORKDIR /src
# Only what the build reads: the workspace manifest and lock file, the crates, the
# migrations that sqlx::migrate!("../../migrations") embeds at compile time, and the console's
# stylesheet and scripts that flotilla-web embeds (web/tests is not needed). The query data in
# .sqlx/ lets the `sqlx::query!` macros check every statement without a database
# (.cargo/config.toml sets SQLX_OFFLINE).
COPY Cargo.toml Cargo.lock ./
COPY .cargo ./.cargo
COPY .sqlx ./.sqlx
COPY services ./services
COPY migrations ./migrations
COPY web ./web
# The registry and the target directory are cache mounts, so a rebuild after a source change
# recompiles only Flotilla's own crates. A cache mount is not part of the image: the binary is
# copied out of it in the same step.
# The commit the image is built from, shown by the flotilla_build_info metric
# (`docker build --build-arg FLOTILLA_COMMIT=$(git rev-parse HEAD) .`).
ARG FLOTILLA_COMMIT=unknown
ENV FLOTILLA_COMMIT=${FLOTILLA_COMMIT}
RUN --mount=type=cache,id=flotilla-cargo-registry,target=/usr/local/cargo/registry,sharing=locked \
    --mount=type=cache,id=flotilla-cargo-git,target=/usr/local/cargo/git,sharing=locked \
    --mount=type=cache,id=flotilla-target,target=/src/target,sharing=locked \
    cargo build --release --locked -p flotilla-server -p flotilla-agent \
    && install -D -m 0755 target/release/flotilla-server /out/flotilla-server \
    && install -D -m 0755 target/release/flotilla-agent /out/flotilla-agent

# Binaries built elsewhere: packaging/prebuilt/flotilla-server and flotilla-agent.
FROM scratch AS prebuilt
COPY packaging/prebuilt/ /out/

# hadolint ignore=DL3006
FROM ${BINARIES} AS binaries

# The runtime's root filesystem, from Debian's packages: the shared libraries the binaries
# link (as ldd lists them: glibc, libgcc_s) and their loader, the CA bundle (outbound TLS: DNS
# providers, the OpenID provider, operators' own CAs), the user and group flotilla (10001), a
# writable /tmp and the server's data directory. Nothing else: no shell, no package manager.
FROM debian:${DEBIAN_RELEASE}-slim AS rootfs
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# Versions are not pinned: the images take the release's security updates when rebuilt.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=binaries /out/flotilla-server /out/flotilla-agent /binaries/
RUN install -d -m 0755 /rootfs/etc/ssl/certs /rootfs/usr/local/bin \
    && install -d -m 1777 /rootfs/tmp \
    && install -d -o 10001 -g 10001 -m 0750 /rootfs/var/lib/flotilla \
    && cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/ \
    && echo 'flotilla:x:10001:10001:flotilla:/var/lib/flotilla:/nonexistent' >/rootfs/etc/passwd \
    && echo 'flotilla:x:10001:' >/rootfs/etc/group \
    && ldd /binaries/flotilla-server /binaries/flotilla-agent | grep -v ':$' | grep -o '/[^ ]*' | sort -u \
        | xargs -I{} cp --parents -L {} /rootfs/

# The flotilla-agent image (`--target agent`). Before the server's stage, which stays the
# default target.
FROM scratch AS agent
COPY --from=rootfs /rootfs/ /
COPY --from=binaries /out/flotilla-agent /usr/local/bin/flotilla-agent
ARG FLOTILLA_COMMIT=unknown
LABEL org.opencontainers.image.title="flotilla-agent" \
      org.opencontainers.image.description="Flotilla's in-cluster agent: registers its cluster, heartbeats, puts Ingresses into global DNS, resolves Admiralty's Kubeconfig and TrustedIdentityProvider" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.revision="${FLOTILLA_COMMIT}"
# Container defaults; every other setting keeps the agent's default (deploy/agent/agent.env).
ENV FLOTILLA_LOG_FORMAT=json \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
# Numeric, so that Kubernetes' runAsNonRoot can check it.
USER 10001:10001
# FLOTILLA_AGENT_LISTEN's default (0.0.0.0:9090): /healthz, /readyz, /metrics. Kubernetes
# probes them (deploy/agent): no health check here.
EXPOSE 9090
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/flotilla-agent"]

# The flotilla-server image: the last stage, so the default target (`--target server`).
FROM scratch AS server
COPY --from=rootfs /rootfs/ /
COPY --from=binaries /out/flotilla-server /usr/local/bin/flotilla-server
ARG FLOTILLA_COMMIT=unknown
LABEL org.opencontainers.image.title="flotilla-server" \
      org.opencontainers.image.description="Flotilla: an open control plane for fleets of Kubernetes clusters" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.revision="${FLOTILLA_COMMIT}"
# Container defaults; every other setting keeps the server's default (see .env.example).
# Listening on all interfaces is what a container needs (the server's default is loopback).
ENV FLOTILLA_LISTEN=0.0.0.0:8080 \
    FLOTILLA_LOG_FORMAT=json \
    FLOTILLA_DATA_DIR=/var/lib/flotilla \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
WORKDIR /var/lib/flotilla
# Numeric, so that Kubernetes' runAsNonRoot can check it.
USER 10001:10001
EXPOSE 8080
# Ready once the database answers and migrations are done: /readyz on FLOTILLA_LISTEN's port.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["/usr/local/bin/flotilla-server", "healthcheck"]
# The server drains in-flight requests on SIGTERM (for up to FLOTILLA_SHUTDOWN_GRACE seconds,
# default 20) and exits 0; give `docker stop` a longer timeout (--time / stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/flotilla-server"]
CMD ["serve"]
