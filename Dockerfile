# syntax=docker/dockerfile:1
#
# syncplane container image.
#
#   docker build -t syncplane .
#   docker run -d --name syncplane --init \
#     -v /etc/syncplane:/etc/syncplane:ro \
#     -v /srv/uploads:/srv/uploads:ro \
#     -v syncplane-data:/data \
#     -p 127.0.0.1:8787:8787 \
#     syncplane
#
# The config is read from /etc/syncplane/syncplane.yaml (see
# examples/syncplane.yaml). Inside a container the API must listen on
# 0.0.0.0 (`api.host: 0.0.0.0`): the default 127.0.0.1 is the container's own
# loopback and unreachable through a published port. The API has no
# authentication, so publish it only on a trusted interface.
# --init puts a minimal init as PID 1 to reap any orphaned rsync/ssh helper.
# Keep `database` under /data (e.g. /data/syncplane.db) so the job history and
# the journal of unreplicated changes survive a container restart.

# ---- build: compile TypeScript, keep only production dependencies ----------
FROM node:24-bookworm-slim AS build

# better-sqlite3 downloads a prebuilt binary when one matches; otherwise it
# compiles from source and needs these.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build \
 && npm prune --omit=dev

# ---- runtime -----------------------------------------------------------------
FROM node:24-bookworm-slim

# rsync (bookworm ships 3.2.7; syncplane needs >= 3.2.3), ssh for SSH targets,
# CA certificates for anything TLS.
RUN apt-get update \
 && apt-get install -y --no-install-recommends rsync openssh-client ca-certificates \
 && rm -rf /var/lib/apt/lists/*

ENV NODE_ENV=production
WORKDIR /app

COPY --from=build /app/dist ./dist
COPY --from=build /app/node_modules ./node_modules
COPY migrations ./migrations
COPY openapi ./openapi
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

# The API port (api.port). The health check below assumes it is 8787.
EXPOSE 8787

# Liveness through node itself: the image has no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:8787/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"

# syncplane drains running rsyncs on SIGTERM (shutdown.drainSec, then
# rsync.killGraceSec); give `docker stop` enough time:
#   docker stop -t 30 syncplane     (or stop_grace_period: 30s in compose)
STOPSIGNAL SIGTERM
ENTRYPOINT ["node", "--max-semi-space-size=4", "/app/dist/cli.js"]
CMD ["serve", "--config", "/etc/syncplane/syncplane.yaml"]
