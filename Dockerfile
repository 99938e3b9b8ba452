# syntax=docker/dockerfile:1
#
# One image for the four park services. Build from the repository root:
#   docker build -t zero-carbon-park .
# Run one service by name (SERVICE) or by its entry point:
#   docker run -e SERVICE=metering -e DATABASE_URL=... -e KAFKA_BROKERS=... zero-carbon-park
#   docker run zero-carbon-park node services/carbon/dist/main.js
# It listens on GRPC_PORT (50051: the service, grpc.health.v1 and reflection) and HTTP_PORT (8080:
# /healthz, /readyz, /metrics and the service's HTTP routes), runs as the unprivileged `node` user
# and writes nothing outside /tmp, so it runs with a read-only root filesystem.

ARG NODE_IMAGE=node:24-slim

# Every workspace's package.json and the lockfile, alone: the dependency layers below are rebuilt
# only when one of them changes, not on every source edit.
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN mkdir -p /manifests \
 && cp package.json package-lock.json /manifests/ \
 && find packages services tools -name package.json -not -path '*/node_modules/*' \
      -exec cp --parents {} /manifests/ \;

# Compile: all dependencies, then `npm run build` (code generation from proto/, then tsc -b).
# Install scripts are skipped while only the manifests are present (the root postinstall generates
# code from proto/, which is not there yet); buf's is run once the tree is complete.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    npm ci --ignore-scripts --no-audit --no-fund
COPY . .
RUN npm rebuild @bufbuild/buf && npm run build
# What the services (and the simulator) need at run time from each workspace: its compiled code,
# its migrations, and the contracts' descriptor set (gRPC reflection serves it).
RUN mkdir -p /out/packages/contracts/src/gen \
 && for ws in packages/* services/* tools/simulator; do \
      mkdir -p "/out/$ws" && cp -r "$ws/dist" "/out/$ws/" \
      && if [ -d "$ws/migrations" ]; then cp -r "$ws/migrations" "/out/$ws/"; fi; \
    done \
 && cp packages/contracts/src/gen/park.binpb /out/packages/contracts/src/gen/

# Production dependencies only (workspaces are linked, their devDependencies left out). No install
# script is needed at run time: protobufjs' only checks its version, ssh2's native addon is
# optional.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY --from=manifests /manifests/ ./
RUN --mount=type=cache,target=/root/.npm,sharing=locked \
    npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
# Reporting's PDF statements embed Noto Sans CJK (Chinese enterprise names), read from
# /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc.
RUN apt-get update \
 && apt-get install -y --no-install-recommends fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    GRPC_PORT=50051 \
    HTTP_PORT=8080
WORKDIR /app
# Owned by root and read-only for the service user.
COPY --from=deps /app/ ./
COPY --from=build /out/ ./
USER node
EXPOSE 50051 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.HTTP_PORT || 8080) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# exec: node becomes PID 1 and receives SIGTERM itself (the services shut down gracefully on it).
CMD ["/bin/sh", "-c", "case \"$SERVICE\" in metering|carbon|dispatch|reporting) exec node \"services/$SERVICE/dist/main.js\" ;; *) echo \"set SERVICE to metering, carbon, dispatch or reporting, or run: node services/<name>/dist/main.js\" >&2; exit 64 ;; esac"]
