# One image per service: docker build --build-arg SERVICE=ingest -t lifecycle-ingest . (ingest, worker, api)
# CI cannot run Docker here; scripts/production-smoke.sh does what these stages do, on the same
# scripts, and starts each service from the result.

# --- build: every dependency, the TypeScript bundled into services/<name>/dist/main.js ---
FROM node:22-bookworm-slim AS build
ARG SERVICE=ingest
WORKDIR /src
COPY . .
RUN npm ci --no-audit --no-fund \
 && npm run build \
 && node scripts/assemble-runtime.mjs /runtime "${SERVICE}"

# --- runtime: a production-only install, the bundle, migrations and static assets; no tsx, no TypeScript ---
FROM node:22-bookworm-slim AS runtime
ARG SERVICE=ingest
ENV NODE_ENV=production SERVICE=${SERVICE}
WORKDIR /app
COPY --from=build /runtime/ ./
RUN npm ci --omit=dev --workspace "services/${SERVICE}" --no-audit --no-fund \
 && npm cache clean --force
USER node
# Ingest and worker serve /readyz on their probe port (9464, 9465), the API on its own (8080).
# Bound to every interface in the container; publish or expose only to the cluster's network.
ENV PROBE_HOST=0.0.0.0 API_HOST=0.0.0.0
EXPOSE 8080 9464 9465
HEALTHCHECK --interval=15s --timeout=3s --start-period=60s --retries=3 CMD ["node", "scripts/healthcheck.mjs"]
# node is PID 1 and gets SIGTERM itself: each service drains on it (close-with-grace: consumer
# leaves its group, in-flight batches and jobs finish) and exits 0. Run with `--init` (compose:
# `init: true`) if you want a reaper for stray children; the services spawn none.
STOPSIGNAL SIGTERM
CMD ["sh", "-c", "exec node --enable-source-maps services/${SERVICE}/dist/main.js"]
