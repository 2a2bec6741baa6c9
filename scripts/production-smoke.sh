#!/usr/bin/env bash
# Production smoke: what the image does, without a Docker engine. From a fresh copy of the tree:
# the Dockerfile's build stage (npm ci, npm run build), then per service a directory receiving what
# its runtime stage receives, in the same order (scripts/assemble-runtime.mjs: manifests, a
# production-only `npm ci --omit=dev` checked to hold no tsx, TypeScript, vitest, esbuild, ...,
# then the bundle). The migration command runs as the Kubernetes Job runs it, then each service
# starts as the image starts it (NODE_ENV=production node --enable-source-maps dist/main.js)
# against local Postgres and Redis and a Kafka broker of its own, until /readyz answers 200 and the
# image's HEALTHCHECK command passes; then SIGTERM, and the exit code must be 0 within 30 s.
# Everything it made (processes, broker, database, Redis keys, directories) is removed at the end,
# also on failure and on Ctrl-C.
#
#   bash scripts/production-smoke.sh
# Environment: SMOKE_KAFKA_PORT (19192; the tests' broker is on 19092), SMOKE_PG_ADMIN_URL
# (postgres://postgres@127.0.0.1:5432/postgres), SMOKE_REDIS_URL (redis://127.0.0.1:6379),
# SMOKE_WORK_DIR (where the copies go: /dev/shm when it has 4 GB free, else TMPDIR or /tmp).
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
now() { date +%s%N; }
t0=$(now)
since() { local ms=$(( ($(now) - $1) / 1000000 )); printf '%d.%d s' $((ms / 1000)) $(( (ms % 1000) / 100 )); }
say() { printf '[smoke %s] %s\n' "$(since "$t0")" "$*"; }
# A command killed by Ctrl-C (130) or TERM (143) is an interruption, not the failure it guards.
fail() { local st=$?; case "$st" in 130|143) exit "$st" ;; esac; echo "smoke: FAILED: $*" >&2; exit 1; }

kafka_port="${SMOKE_KAFKA_PORT:-19192}"
pg_admin="${SMOKE_PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
redis_url="${SMOKE_REDIS_URL:-redis://127.0.0.1:6379}"
run_id="smoke_$(date +%s)_$$"
database="lifecycle_${run_id}"
services=(ingest worker api)
# The copies are ~600 MB of small files: on tmpfs, installing and removing them skips the disk
# (removal took 59 s on a busy disk here, 5 s on tmpfs).
work_base="${SMOKE_WORK_DIR:-}"
if [ -z "$work_base" ]; then
  work_base="${TMPDIR:-/tmp}"
  if [ -d /dev/shm ] && [ -w /dev/shm ] && [ "$(df -Pk /dev/shm | awk 'NR == 2 { print $4 }')" -gt $((4 * 1024 * 1024)) ]; then work_base=/dev/shm; fi
fi
work="$(mktemp -d "$work_base/lifecycle-smoke-XXXXXX")"
declare -A pid_of=() port_of=()
broker_job="" created_database=0

cleanup() {
  local status=$? c0; c0=$(now)
  trap - INT TERM
  # Each child runs in a session of its own (setsid): Ctrl-C reaches only this script, which kills
  # each one's whole process group here.
  for pid in "${pid_of[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  # A broker still starting is waited for (its start ignores Ctrl-C), then stopped: only ours.
  if [ -n "$broker_job" ]; then
    wait "$broker_job" 2>/dev/null || true
    KAFKA_PORT="$kafka_port" bash "$repo/infra/kafka/kafka.sh" stop >/dev/null 2>&1 || true
  fi
  if [ "$created_database" = 1 ]; then psql "$pg_admin" -qAtc "DROP DATABASE IF EXISTS \"$database\" WITH (FORCE)" >/dev/null 2>&1 || true; fi
  redis-cli -u "$redis_url" --scan --pattern "${run_id}:*" 2>/dev/null | xargs -r redis-cli -u "$redis_url" del >/dev/null 2>&1 || true
  rm -rf "$work"
  printf '[smoke %s] cleaned up (processes, broker, database, Redis keys, %s) in %s\n' "$(since "$t0")" "$work" "$(since "$c0")"
  case "$status" in
    0) say "production smoke passed" ;;
    130|143) say "production smoke interrupted" ;;
    *) say "production smoke FAILED (exit $status)" ;;
  esac
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for tool in git node npm psql redis-cli curl java; do command -v "$tool" >/dev/null || fail "$tool is needed"; done
if KAFKA_PORT="$kafka_port" bash "$repo/infra/kafka/kafka.sh" status >/dev/null 2>&1 || (exec 3<>"/dev/tcp/127.0.0.1/$kafka_port") 2>/dev/null; then
  fail "port $kafka_port is in use (a broker that is not ours to stop?); set SMOKE_KAFKA_PORT"
fi

# The broker starts beside the build (it needs neither); its output goes to a log shown on failure.
KAFKA_PORT="$kafka_port" KAFKA_HEAP_OPTS="-Xms128m -Xmx384m" bash "$repo/infra/kafka/kafka.sh" start >"$work/kafka.log" 2>&1 &
broker_job=$!

# A fresh copy: the tracked files plus new ones not yet committed (never ignored ones such as
# node_modules, dist or .env), as a clean clone of this change would have them.
phase=$(now)
mkdir -p "$work/build"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard \
  | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | tar --null -T - -cf -) | tar -xf - -C "$work/build"
say "fresh copy of the tree ($(find "$work/build" -type f | wc -l) files) in $work/build: $(since "$phase")"

phase=$(now)
(cd "$work/build" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error >/dev/null)
say "build stage: npm ci: $(since "$phase")"
phase=$(now)
(cd "$work/build" && npm run --silent build | sed 's/^/  /')
say "build stage: npm run build: $(since "$phase")"

# One runtime directory per service, as one image per service; the three installs run side by side.
phase=$(now)
for service in "${services[@]}"; do
  rt="$work/runtime-$service"
  (cd "$work/build" && node scripts/assemble-runtime.mjs "$work/parts-$service" "$service" >/dev/null)
  mkdir "$rt" && cp -a "$work/parts-$service/deps/." "$rt/"
  (cd "$rt" && NODE_ENV=production exec setsid npm ci --omit=dev --workspace "services/$service" --prefer-offline --no-audit --no-fund --loglevel=error >"$work/install-$service.log" 2>&1) &
  pid_of[install-$service]=$!
done
for service in "${services[@]}"; do
  wait "${pid_of[install-$service]}" || { cat "$work/install-$service.log" >&2; fail "npm ci --omit=dev for $service"; }
  unset "pid_of[install-$service]"
  rt="$work/runtime-$service"
  cp -a "$work/parts-$service/app/." "$rt/"
  for dev in tsx typescript vitest esbuild eslint dependency-cruiser @lifecycle/testkit testcontainers fast-check; do
    [ ! -e "$rt/node_modules/$dev" ] || fail "the production install of $service holds the devDependency $dev"
  done
  [ -z "$(find "$rt/packages" "$rt/services" -name node_modules -prune -o -name '*.ts' -print -quit)" ] || fail "TypeScript sources reached the runtime of $service"
  say "runtime stage for $service: node_modules of $(du -sm "$rt/node_modules" | cut -f1) MB, no devDependency"
done
say "runtime stage: npm ci --omit=dev x ${#services[@]}: $(since "$phase")"

phase=$(now)
wait "$broker_job" || { cat "$work/kafka.log" >&2; broker_job=""; fail "the Kafka broker did not start"; }
say "Kafka broker on 127.0.0.1:$kafka_port ready ($(grep -o 'started in [0-9.]* s' "$work/kafka.log" || echo '?')), waited $(since "$phase")"

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
env_of() { # the environment a deployment gives the container (Dockerfile ENV + its own)
  local service=$1
  printf '%s\n' NODE_ENV=production SERVICE="$service" LOG_LEVEL=info \
    DATABASE_URL="postgres://postgres@127.0.0.1:5432/$database" REDIS_URL="$redis_url" QUEUE_PREFIX="$run_id" \
    KAFKA_BROKERS="127.0.0.1:$kafka_port"
  # API_DOCS=public: the check below reads the docs without a key (by default they need a read key).
  if [ "$service" = api ]; then printf '%s\n' API_HOST=127.0.0.1 API_PORT="${port_of[$service]}" API_DOCS=public
  else printf '%s\n' PROBE_HOST=127.0.0.1 PROBE_PORT="${port_of[$service]}"; fi
}
status_of() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1" || true; }

# The migrations, as the Kubernetes Job applies them before the Deployments roll (the services
# would apply them too; they then find none pending).
phase=$(now)
created_database=1
(cd "$work/runtime-ingest" && env NODE_ENV=production DATABASE_URL="postgres://postgres@127.0.0.1:5432/$database" \
  node --enable-source-maps services/ingest/dist/migrate.js >"$work/migrate.log" 2>&1) || { cat "$work/migrate.log" >&2; fail "services/ingest/dist/migrate.js"; }
grep -q '^migrations: 0001' "$work/migrate.log" || { cat "$work/migrate.log" >&2; fail "migrate.js applied no migration to a new database"; }
say "services/ingest/dist/migrate.js applied $(grep -o '[0-9]\{4\}_' "$work/migrate.log" | wc -l) migrations to the new database in $(since "$phase")"

# Ingest first: it creates the topics that the worker's relay and the API's producer write to.
for service in "${services[@]}"; do
  phase=$(now)
  rt="$work/runtime-$service"
  port_of[$service]="$(free_port)"
  mapfile -t env_for < <(env_of "$service")
  (cd "$rt" && exec setsid env "${env_for[@]}" node --enable-source-maps "services/$service/dist/main.js" >"$work/$service.log" 2>&1) &
  pid_of[$service]=$!
  ready="http://127.0.0.1:${port_of[$service]}/readyz"
  deadline=$(( $(date +%s) + 90 ))
  until [ "$(status_of "$ready")" = 200 ]; do
    if ! kill -0 "${pid_of[$service]}" 2>/dev/null || [ "$(date +%s)" -gt "$deadline" ]; then
      echo "smoke: $service is not ready at $ready (exited, or 90 s passed); its log:" >&2; tail -n 40 "$work/$service.log" >&2
      fail "$service did not become ready"
    fi
    sleep 0.25
  done
  say "$service ready in $(since "$phase"): $ready -> $(curl -s --max-time 5 "$ready")"
  # The image's HEALTHCHECK command, as Docker runs it: from the app directory, with its environment.
  (cd "$rt" && env "${env_for[@]}" node scripts/healthcheck.mjs) || fail "the image's health check fails for $service"
done

# Files the API reads at run time (the dashboard's pages and assets, chart.js, the OpenAPI
# document) are found from the bundle; the queue board is mounted and asks for an admin key.
api="http://127.0.0.1:${port_of[api]}"
for check in /dashboard=200 /dashboard/assets/chart.umd.min.js=200 /docs/json=200 /docs/static/swagger-ui-bundle.js=200 /admin/queues=401; do
  path="${check%=*}" code="$(status_of "$api${check%=*}")"
  [ "$code" = "${check#*=}" ] || { tail -n 20 "$work/api.log" >&2; fail "GET $path answered $code from the production API, not ${check#*=}"; }
done
say "api serves its dashboard, assets and OpenAPI document from the bundle; /admin/queues asks for a key"

for service in api worker ingest; do
  phase=$(now)
  pid="${pid_of[$service]}"
  kill -TERM "$pid"
  timeout 30 tail --pid="$pid" -f /dev/null || { tail -n 20 "$work/$service.log" >&2; fail "$service did not exit within 30 s of SIGTERM"; }
  code=0; wait "$pid" || code=$?
  unset "pid_of[$service]"
  [ "$code" = 0 ] || { tail -n 40 "$work/$service.log" >&2; fail "$service exited with $code after SIGTERM"; }
  grep -q '"msg":"shutting down"' "$work/$service.log" || fail "$service did not log its shutdown"
  say "$service: SIGTERM -> exit 0 in $(since "$phase")"
done
