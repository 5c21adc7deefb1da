# syntax=docker/dockerfile:1
#
# syncplane container image.
#
#   docker build -t syncplane --build-arg REVISION=$(git rev-parse HEAD) \
#     --label org.opencontainers.image.created=$(date -u +%Y-%m-%dT%H:%M:%SZ) .
#   docker run -d --name syncplane \
#     -v /etc/syncplane:/etc/syncplane:ro \
#     -v /srv/uploads:/srv/uploads:ro \
#     -v syncplane-data:/data \
#     -p 127.0.0.1:8787:8787 \
#     syncplane
#
# The config is read from /etc/syncplane/syncplane.yaml (see
# examples/syncplane.yaml). The image sets SYNCPLANE_API_HOST=0.0.0.0, which
# wins over the file's api.host: the default 127.0.0.1 would be the
# container's own loopback, unreachable through a published port. Off
# loopback the API requires a bearer token, so syncplane refuses to start
# without one: api.tokenFile (a file in the mounted /etc/syncplane, or a
# Docker secret such as /run/secrets/api_token), api.token, or the
# SYNCPLANE_API_TOKEN environment variable. SYNCPLANE_API_PORT and
# SYNCPLANE_LOG_LEVEL override api.port and logLevel the same way; an empty
# value (-e SYNCPLANE_API_HOST=) leaves the file's setting in force.
# tini runs as PID 1: it forwards SIGTERM to syncplane alone (which drains
# its rsyncs) and reaps what is orphaned, such as the ssh connection masters
# (ControlPersist) that outlive the rsync that started them. No --init needed.
# Keep `database` under /data (e.g. /data/syncplane.db) so the job history and
# the journal of unreplicated changes survive a container restart.

# ---- build: bundle the TypeScript, keep only production dependencies --------
FROM node:24-bookworm-slim AS build

# better-sqlite3 downloads a prebuilt binary when one matches; otherwise it
# compiles from source and needs these.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY tsconfig.json ./
COPY scripts/build.ts ./scripts/
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev

# ---- runtime -----------------------------------------------------------------
FROM node:24-bookworm-slim

# OCI annotations. VERSION follows package.json (a test holds them equal);
# pass the commit as --build-arg REVISION, the build time as a --label.
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="syncplane" \
      org.opencontainers.image.description="Real-time directory replication with rsync, steered over HTTP" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"

# rsync (bookworm ships 3.2.7; syncplane needs >= 3.2.3), ssh for SSH targets,
# CA certificates for anything TLS, tini as PID 1.
RUN apt-get update \
 && apt-get install -y --no-install-recommends rsync openssh-client ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*

# Two malloc arenas, not 8 per core: see docs/operations.md, "Memory and CPU".
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    SYNCPLANE_API_HOST=0.0.0.0
WORKDIR /app

COPY --from=build /app/dist ./dist
COPY --from=build /app/node_modules ./node_modules
COPY migrations ./migrations
COPY openapi ./openapi
COPY ui ./ui
COPY package.json ./

# A named user matters beyond least privilege: ssh refuses to run for a uid
# that has no passwd entry, so run the container as this user (not an
# arbitrary --user uid) when you have SSH targets.
RUN groupadd --gid 10001 syncplane \
 && useradd --uid 10001 --gid syncplane --create-home --home-dir /home/syncplane \
      --shell /usr/sbin/nologin syncplane \
 && mkdir -p /data /etc/syncplane \
 && chown syncplane:syncplane /data

VOLUME ["/data"]
USER syncplane

# The API port (api.port, 8787 unless the file or SYNCPLANE_API_PORT says
# otherwise; the health check follows SYNCPLANE_API_PORT, not the file).
EXPOSE 8787

# Liveness through node itself: the image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SYNCPLANE_API_PORT||8787)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]

# syncplane drains running rsyncs on SIGTERM (shutdown.drainSec, then
# rsync.killGraceSec); give `docker stop` enough time:
#   docker stop -t 30 syncplane     (or stop_grace_period: 30s in compose)
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--max-semi-space-size=4", "--optimize-for-size", "--max-opt=1", "/app/dist/cli.js"]
CMD ["serve", "--config", "/etc/syncplane/syncplane.yaml"]
