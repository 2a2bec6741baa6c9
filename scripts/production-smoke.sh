#!/usr/bin/env bash
# Production smoke: what the image does, without a Docker engine. From a fresh copy of the tree:
# the build (npm ci + npm run build), then per service a runtime directory holding only what the
# Dockerfile's runtime stage holds (scripts/assemble-runtime.mjs), a production-only install
# (`npm ci --omit=dev`, checked to contain no tsx, TypeScript, vitest or esbuild), and the service
# started as the image starts it (NODE_ENV=production node --enable-source-maps dist/main.js)
# against local Postgres, Redis and a Kafka broker of its own, until /readyz answers 200; then
# SIGTERM, and the exit code must be 0. Everything it made is removed, also on Ctrl-C.
#
#   bash scripts/production-smoke.sh        (SMOKE_KAFKA_PORT, default 29092)
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
started_at=$(date +%s)
say() { printf '[smoke +%ss] %s\n' "$(( $(date +%s) - started_at ))" "$*"; }

kafka_port="${SMOKE_KAFKA_PORT:-29092}"
work="$(mktemp -d "${TMPDIR:-/tmp}/lifecycle-smoke-XXXXXX")"
run_id="smoke_$(date +%s)_$$"
database="lifecycle_${run_id}"
pg_admin="${SMOKE_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
redis_url="${SMOKE_REDIS_URL:-redis://127.0.0.1:6379}"
pids=()

cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  KAFKA_PORT="$kafka_port" bash "$repo/infra/kafka/kafka.sh" stop >/dev/null 2>&1 || true
  psql "$pg_admin" -qAtc "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null 2>&1 || true
  redis-cli -u "$redis_url" --scan --pattern "${run_id}:*" 2>/dev/null | xargs -r redis-cli -u "$redis_url" del >/dev/null 2>&1 || true
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "fresh copy of the tree (tracked and new files, nothing ignored) in $work/build"
mkdir -p "$work/build"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' | tar --null -T - -cf -) | tar -xf - -C "$work/build"
# The demo and tests read ../shared; the build does not.

say "build stage: npm ci, npm run build"
(cd "$work/build" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && npm run --silent build)

say "starting a Kafka broker on 127.0.0.1:$kafka_port"
KAFKA_PORT="$kafka_port" KAFKA_HEAP_OPTS="${SMOKE_KAFKA_HEAP_OPTS:--Xms128m -Xmx384m}" bash "$repo/infra/kafka/kafka.sh" start

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

# One runtime directory per service, as one image per service.
declare -A ready_url
for service in ingest worker api; do
  rt="$work/runtime-$service"
  (cd "$work/build" && node scripts/assemble-runtime.mjs "$rt" "$service" >/dev/null)
  say "runtime stage for $service: npm ci --omit=dev --workspace services/$service"
  (cd "$rt" && NODE_ENV=production npm ci --omit=dev --workspace "services/$service" --no-audit --no-fund --loglevel=error >/dev/null)
  # (Every workspace is linked into node_modules by npm; only their package.json files are here.)
  for dev in tsx typescript vitest esbuild eslint testcontainers fast-check; do
    if [ -e "$rt/node_modules/$dev" ]; then echo "smoke: the production install of $service holds the devDependency $dev" >&2; exit 1; fi
  done
  [ ! -e "$rt/services/$service/src/main.ts" ] || { echo "smoke: TypeScript sources reached the runtime of $service" >&2; exit 1; }
done

# Ingest first: it creates the topics the API's producer and the worker's relay use.
for service in ingest worker api; do
  rt="$work/runtime-$service"
  port="$(free_port)"
  env_for=(NODE_ENV=production DATABASE_URL="postgres://postgres@127.0.0.1:5432/$database" REDIS_URL="$redis_url" QUEUE_PREFIX="$run_id"
    KAFKA_BROKERS="127.0.0.1:$kafka_port" LOG_LEVEL=info)
  if [ "$service" = api ]; then env_for+=(API_HOST=127.0.0.1 API_PORT="$port"); else env_for+=(PROBE_HOST=127.0.0.1 PROBE_PORT="$port"); fi
  ready_url[$service]="http://127.0.0.1:$port/readyz"
  say "starting $service as the image does: node --enable-source-maps services/$service/dist/main.js"
  (cd "$rt" && exec env "${env_for[@]}" node --enable-source-maps "services/$service/dist/main.js" >"$work/$service.log" 2>&1) &
  pids+=($!)
  eval "pid_$service=$!"
  deadline=$(( $(date +%s) + 90 ))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "${ready_url[$service]}" || true)" = 200 ]; do
    if ! kill -0 "$(eval echo "\$pid_$service")" 2>/dev/null || [ "$(date +%s)" -gt "$deadline" ]; then
      echo "smoke: $service did not become ready (${ready_url[$service]}); its log:" >&2; tail -n 40 "$work/$service.log" >&2; exit 1
    fi
    sleep 0.5
  done
  say "$service ready: ${ready_url[$service]} → $(curl -s "${ready_url[$service]}")"
  # The image's HEALTHCHECK command, run as Docker runs it (from the app directory, same env).
  (cd "$rt" && env "${env_for[@]}" SERVICE="$service" node scripts/healthcheck.mjs) || { echo "smoke: the image's health check fails for $service" >&2; exit 1; }
done

for service in api worker ingest; do
  pid="$(eval echo "\$pid_$service")"
  kill -TERM "$pid"
  code=0; timeout 30 tail --pid="$pid" -f /dev/null || { echo "smoke: $service did not exit within 30 s of SIGTERM" >&2; exit 1; }
  wait "$pid" || code=$?
  if [ "$code" != 0 ]; then echo "smoke: $service exited with $code after SIGTERM; its log:" >&2; tail -n 40 "$work/$service.log" >&2; exit 1; fi
  grep -q '"msg":"shutting down"' "$work/$service.log" || { echo "smoke: $service did not log its shutdown" >&2; exit 1; }
  say "$service: SIGTERM → clean exit 0"
done
pids=()
say "production smoke passed"
