# syntax=docker/dockerfile:1
#
# Two images from one release build, each on a small Debian runtime, running as a non-root
# user:
# - flotilla-server, the default target (the last stage, `server`). Postgres is not included:
#   set DATABASE_URL (docker-compose.yml does).
# - flotilla-agent, the in-cluster agent (`--target agent`), which deploy/agent runs.
#
#   docker build -t flotilla-server .
#   docker run --rm -p 8080:8080 -e DATABASE_URL=postgres://user:password@host:5432/db flotilla-server
#   docker build --target agent -t flotilla-agent .
#
# Needs BuildKit (the default builder of current Docker) for the cache mounts below.
# Checked without a Docker engine by scripts/validate-packaging.sh.

# The builder and the runtimes must share a Debian release: the binaries link the builder's glibc.
ARG RUST_VERSION=1
ARG DEBIAN_RELEASE=bookworm

FROM rust:${RUST_VERSION}-slim-${DEBIAN_RELEASE} AS build
WORKDIR /src
# Only what the build reads: the workspace manifest and lock file, the crates, the
# migrations that sqlx::migrate!("../../migrations") embeds at compile time, and the console's
# stylesheet and scripts that flotilla-web embeds (web/tests is not needed).
COPY Cargo.toml Cargo.lock ./
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

# The flotilla-agent image (`--target agent`). Before the server's stage, which stays the
# default target. BuildKit builds only the stages a target needs, but the one `build` stage
# compiles both binaries, so either image's build compiles both.
FROM debian:${DEBIAN_RELEASE}-slim AS agent
# ca-certificates: the system trust store, for outbound TLS that uses it. No HTTP client for a
# health check: Kubernetes probes /healthz and /readyz (deploy/agent). Versions are not
# pinned: the image takes the release's security updates when rebuilt.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 flotilla \
    && useradd --uid 10001 --gid flotilla --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin flotilla
COPY --from=build /out/flotilla-agent /usr/local/bin/flotilla-agent
# Container defaults; every other setting keeps the agent's default (deploy/agent/agent.env).
ENV FLOTILLA_LOG_FORMAT=json
# Numeric, so that Kubernetes' runAsNonRoot can check it.
USER 10001:10001
# FLOTILLA_AGENT_LISTEN's default (0.0.0.0:9090): /healthz, /readyz, /metrics.
EXPOSE 9090
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/flotilla-agent"]

# The flotilla-server image: the last stage, so the default target (`--target server`).
FROM debian:${DEBIAN_RELEASE}-slim AS server
# ca-certificates: the system trust store, for outbound TLS that uses it (providers' SDKs,
# operators' own CAs). wget: the HTTP client of the health check (curl would pull in far more).
# Versions are not pinned: the image takes the release's security updates when rebuilt.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates wget \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 10001 flotilla \
    && useradd --uid 10001 --gid flotilla --home-dir /var/lib/flotilla --no-create-home \
        --shell /usr/sbin/nologin flotilla \
    && install -d -o flotilla -g flotilla -m 0750 /var/lib/flotilla
COPY --from=build /out/flotilla-server /usr/local/bin/flotilla-server

# Container defaults; every other setting keeps the server's default (see .env.example).
# Listening on all interfaces is what a container needs (the server's default is loopback).
ENV FLOTILLA_LISTEN=0.0.0.0:8080 \
    FLOTILLA_LOG_FORMAT=json \
    FLOTILLA_DATA_DIR=/var/lib/flotilla
WORKDIR /var/lib/flotilla
# Numeric, so that Kubernetes' runAsNonRoot can check it.
USER 10001:10001
EXPOSE 8080
# Ready once the database answers and migrations are done. Assumes the default port 8080.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
    CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/readyz"]
# The server drains in-flight requests on SIGTERM (for up to FLOTILLA_SHUTDOWN_GRACE seconds,
# default 20) and exits 0; give `docker stop` a longer timeout (--time / stop_grace_period).
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/flotilla-server"]
CMD ["serve"]
