# syntax=docker/dockerfile:1
# One image per service (ingest, worker, api):
#   docker build --build-arg SERVICE=ingest -t customer-lifecycle-ingest .
# It runs compiled JavaScript (npm run build): no tsx, no TypeScript, no devDependency at run time.
# CI has no Docker engine: scripts/production-smoke.sh does what these stages do, through the same
# scripts (build.mjs, assemble-runtime.mjs, healthcheck.mjs), and starts each service from the result.

# --- build: every dependency; each service bundled into services/<name>/dist/{main,migrate}.js ---
FROM node:22-bookworm-slim AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
RUN npm run build
# Declared here, so the install and the build above are shared by the three images.
ARG SERVICE=ingest
RUN node scripts/assemble-runtime.mjs /runtime "${SERVICE}"

# --- runtime: a production-only install of what the service needs, then its bundle ---
FROM node:22-bookworm-slim AS runtime
ARG SERVICE=ingest
ENV NODE_ENV=production SERVICE=${SERVICE}
WORKDIR /app
# The lockfile and the workspaces' package.json files first: a code change reuses this install.
COPY --from=build /runtime/deps/ ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --workspace "services/${SERVICE}" --no-audit --no-fund
# The bundle and its source maps, the SQL migrations, the follow-up templates, the dashboard's assets, the health check.
COPY --from=build /runtime/app/ ./
# Root owns the files, so the service cannot change its own code (and runs on a read-only root).
USER node
# Ingest and worker serve /readyz on their probe port (9464, 9465), the API on its own (8080).
# Bound to every interface in the container; publish them to the host's loopback or the cluster only.
ENV PROBE_HOST=0.0.0.0 API_HOST=0.0.0.0
EXPOSE 8080 9464 9465
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 CMD ["node", "scripts/healthcheck.mjs"]
# `sh -c exec` only to expand SERVICE: node replaces the shell as PID 1 and gets SIGTERM itself.
# Each service drains on it (close-with-grace: the consumer leaves its group, batches and jobs in
# flight finish) and exits 0 within its 15 s grace; give the container more than that (compose
# stop_grace_period, Kubernetes terminationGracePeriodSeconds). The services start no child
# processes, so no init is needed to reap them; `docker run --init` / compose `init: true` add one.
# Migrations: `node services/<name>/dist/migrate.js` (the services also migrate at start).
STOPSIGNAL SIGTERM
CMD ["sh", "-c", "exec node --enable-source-maps services/${SERVICE}/dist/main.js"]
