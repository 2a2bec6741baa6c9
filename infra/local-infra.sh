#!/usr/bin/env bash
# Local infrastructure without Docker: Postgres and Redis from the machine's packages (started
# if installed but stopped), and a real Kafka broker from Maven artifacts (infra/kafka/kafka.sh).
#
#   infra/local-infra.sh services   ensure Postgres and Redis answer (start them if needed)
#   infra/local-infra.sh up         services + Kafka on $KAFKA_PORT (default 9092)
#   infra/local-infra.sh down       stop the Kafka broker this repo started (Postgres/Redis are left as found)
#
# DATABASE_URL / REDIS_URL pointing elsewhere than 127.0.0.1 are respected: nothing is started for them.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

pg_host_port() { # prints "host port" of DATABASE_URL, default 127.0.0.1 5432
  local url="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/lifecycle}"
  local hp="${url#*://}"; hp="${hp#*@}"; hp="${hp%%/*}"
  local host="${hp%%:*}" port="5432"; [[ "$hp" == *:* ]] && port="${hp##*:}"
  echo "$host $port"
}
redis_host_port() {
  local url="${REDIS_URL:-redis://127.0.0.1:6379}"
  local hp="${url#*://}"; hp="${hp#*@}"; hp="${hp%%/*}"
  local host="${hp%%:*}" port="6379"; [[ "$hp" == *:* ]] && port="${hp##*:}"
  echo "$host $port"
}
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
is_local() { [[ "$1" == "127.0.0.1" || "$1" == "localhost" || "$1" == "::1" ]]; }

wait_port() { # host port name
  for _ in $(seq 1 60); do port_open "$1" "$2" && return 0; sleep 0.5; done
  echo "local-infra: $3 did not open $1:$2 within 30 s" >&2; return 1
}

ensure_postgres() {
  read -r host port < <(pg_host_port)
  if port_open "$host" "$port"; then echo "local-infra: postgres answering on $host:$port"; return 0; fi
  is_local "$host" || { echo "local-infra: postgres at $host:$port does not answer (not local: not starting it)" >&2; return 1; }
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
    local version; version="$(ls /etc/postgresql | sort -V | tail -n 1)"
    echo "local-infra: starting postgres $version (pg_ctlcluster)"
    pg_ctlcluster --skip-systemctl-redirect "$version" main start
  else
    echo "local-infra: postgres is not running on $host:$port and no pg_ctlcluster was found; start it, set DATABASE_URL, or use Docker (docker compose up -d)" >&2
    return 1
  fi
  wait_port "$host" "$port" postgres
}

ensure_redis() {
  read -r host port < <(redis_host_port)
  if port_open "$host" "$port"; then echo "local-infra: redis answering on $host:$port"; return 0; fi
  is_local "$host" || { echo "local-infra: redis at $host:$port does not answer (not local: not starting it)" >&2; return 1; }
  command -v redis-server >/dev/null 2>&1 || { echo "local-infra: redis-server not installed; set REDIS_URL or use Docker" >&2; return 1; }
  echo "local-infra: starting redis-server on $port"
  local dir="${TMPDIR:-/tmp}/lifecycle-redis-$port"; mkdir -p "$dir"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$port" --save "" --appendonly no --dir "$dir" --logfile "$dir/redis.log"
  wait_port "$host" "$port" redis
}

case "${1:-}" in
  services) ensure_postgres; ensure_redis ;;
  up) ensure_postgres; ensure_redis; bash "$here/kafka/kafka.sh" start ;;
  down) bash "$here/kafka/kafka.sh" stop ;;
  *) echo "usage: $0 services|up|down" >&2; exit 2 ;;
esac
