#!/usr/bin/env bash
# A real Apache Kafka broker without Docker: the jars come from Maven Central (pom.xml), the
# broker runs single-node KRaft on 127.0.0.1. Idempotent; `stop` leaves nothing behind.
#
#   kafka.sh resolve   resolve the broker's classpath with Maven (cached in ~/.m2 and target/)
#   kafka.sh start     start a broker on $KAFKA_PORT (default 9092) unless ours already runs there
#   kafka.sh stop      stop it (controlled shutdown, then SIGKILL after 30 s) and delete its state
#   kafka.sh status    exit 0 if our broker on $KAFKA_PORT runs, 3 if not
#   kafka.sh bounce    restart it keeping its data (KAFKA_BOUNCE_SIGNAL TERM or KILL, KAFKA_BOUNCE_DOWN_S)
#
# Environment: KAFKA_SASL_SSL=1 (a SASL_SSL listener, see secure_config), KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (KAFKA_PORT+1), KAFKA_STATE_DIR
# (${TMPDIR:-/tmp}/lifecycle-kafka-$KAFKA_PORT), KAFKA_HEAP_OPTS (-Xms256m -Xmx512m),
# KAFKA_JVM_EXTRA_OPTS (appended last, e.g. to re-enable the C2 JIT for benchmarks),
# KAFKA_START_TIMEOUT (seconds, 90).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
port="${KAFKA_PORT:-9092}"
controller_port="${KAFKA_CONTROLLER_PORT:-$((port + 1))}"
state="${KAFKA_STATE_DIR:-${TMPDIR:-/tmp}/lifecycle-kafka-$port}"
pidfile="$state/kafka.pid"
classpath_file="$here/target/classpath.txt"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$here/pom.xml")"
# Any 16-byte base64url id works; fixed so that runs are reproducible. Must not start with '-'.
cluster_id="Q6GkS6H1XT9lr3U7XHk2uw"

say() { echo "kafka: $*"; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
running_pid() { # prints the pid of our broker for this port if it is alive
  [ -f "$pidfile" ] || return 1
  local pid; pid="$(cat "$pidfile")"
  kill -0 "$pid" 2>/dev/null && grep -q "kafka.Kafka" "/proc/$pid/cmdline" 2>/dev/null && echo "$pid"
}

resolve() {
  local stale=0
  if [ ! -s "$classpath_file" ] || [ "$here/pom.xml" -nt "$classpath_file" ]; then stale=1
  else # a cleaned ~/.m2 leaves a classpath that points at nothing
    local jar; IFS=: read -r jar _ < "$classpath_file" || true  # no final newline: read "fails"
    [ -f "$jar" ] || stale=1
  fi
  if [ "$stale" = 1 ]; then
    command -v mvn >/dev/null || { echo "kafka: Maven (mvn) is needed to fetch the broker; install it (and Java 17), or use Docker" >&2; exit 1; }
    command -v java >/dev/null || { echo "kafka: Java 17 is needed to run the broker" >&2; exit 1; }
    mkdir -p "$here/target"
    mvn -B -q -Dstyle.color=never -f "$here/pom.xml" dependency:build-classpath -Dmdep.outputFile="$classpath_file" >&2
  fi
  say "resolved Apache Kafka $version from Maven Central (org.apache.kafka:kafka_2.13:$version + reload4j), $(tr ':' '\n' < "$classpath_file" | wc -l) jars"
}

jvm_opts() { # heap options come first, so the caller's can be given as $1
  echo "${1:-${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}} -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true" \
       "-Dkafka.logs.dir=$state/logs -Dlog4j.configuration=file:$here/log4j.properties ${KAFKA_JVM_EXTRA_OPTS:-}"
}

# KAFKA_SASL_SSL=1: a CA and a broker certificate (keytool) in $state/tls (ca.pem is what clients
# trust), SCRAM users ($KAFKA_SASL_USERS, "name:password ...") written when the storage is
# formatted, the same users for PLAIN, and a plaintext inter-broker listener on $port+2.
secure_config() {
  command -v keytool >/dev/null || { echo "kafka: keytool (Java 17) is needed for KAFKA_SASL_SSL=1" >&2; exit 1; }
  local tls="$state/tls" p=changeit internal_port="${KAFKA_INTERNAL_PORT:-$((port + 2))}" plain="" user
  mkdir -p "$tls"
  {
    keytool -genkeypair -alias ca -keyalg RSA -keysize 2048 -dname CN=lifecycle-test-ca -ext bc:c -validity 3650 -keystore "$tls/ca.p12" -storetype PKCS12 -storepass $p
    keytool -exportcert -rfc -alias ca -keystore "$tls/ca.p12" -storepass $p > "$tls/ca.pem"
    keytool -genkeypair -alias broker -keyalg RSA -keysize 2048 -dname CN=localhost -validity 3650 -keystore "$tls/broker.p12" -storetype PKCS12 -storepass $p
    keytool -certreq -alias broker -keystore "$tls/broker.p12" -storepass $p -file "$tls/broker.csr"
    keytool -gencert -alias ca -keystore "$tls/ca.p12" -storepass $p -infile "$tls/broker.csr" -outfile "$tls/broker.pem" -rfc -ext SAN=dns:localhost,ip:127.0.0.1 -validity 3650
    keytool -importcert -alias ca -file "$tls/ca.pem" -keystore "$tls/broker.p12" -storepass $p -noprompt
    keytool -importcert -alias broker -file "$tls/broker.pem" -keystore "$tls/broker.p12" -storepass $p
  } > "$state/logs/keytool.log" 2>&1 || { cat "$state/logs/keytool.log" >&2; exit 1; }
  for user in ${KAFKA_SASL_USERS:-alice:alice-secret}; do plain="$plain user_${user%%:*}=\"${user#*:}\""; done
  sed -e "s#@PORT@#$port#g" -e "s#@CONTROLLER_PORT@#$controller_port#g" -e "s#@INTERNAL_PORT@#$internal_port#g" \
    -e "s#@DATA_DIR@#$state/data#g" -e "s#@KEYSTORE@#$tls/broker.p12#g" -e "s#@PLAIN_USERS@#${plain# }#g" \
    "$here/server-sasl-ssl.properties" > "$state/server.properties"
}

start() {
  local pid
  if pid="$(running_pid)"; then say "already running on 127.0.0.1:$port (pid $pid, state $state)"; return 0; fi
  if port_open "$port"; then echo "kafka: port $port is taken by another process; set KAFKA_PORT or stop it" >&2; exit 1; fi
  if port_open "$controller_port"; then echo "kafka: controller port $controller_port is taken; set KAFKA_CONTROLLER_PORT" >&2; exit 1; fi
  resolve
  local t0 cp; t0=$(date +%s%N); cp="$(cat "$classpath_file")"
  rm -rf "$state"; mkdir -p "$state/data" "$state/logs"
  local scram=()
  if [ "${KAFKA_SASL_SSL:-0}" = 1 ]; then
    secure_config
    local user
    for user in ${KAFKA_SASL_USERS:-alice:alice-secret}; do
      scram+=(--add-scram "SCRAM-SHA-256=[name=${user%%:*},password=${user#*:}]" --add-scram "SCRAM-SHA-512=[name=${user%%:*},password=${user#*:}]")
    done
  else
    sed -e "s#@PORT@#$port#g" -e "s#@CONTROLLER_PORT@#$controller_port#g" -e "s#@DATA_DIR@#$state/data#g" \
      "$here/server.properties" > "$state/server.properties"
  fi
  # shellcheck disable=SC2046
  java $(jvm_opts "-Xms64m -Xmx256m") -cp "$cp" kafka.tools.StorageTool format -t "$cluster_id" -c "$state/server.properties" "${scram[@]}" \
    > "$state/logs/format.log" 2>&1 || { cat "$state/logs/format.log" >&2; exit 1; }
  launch "$cp" "$t0"
}

# Runs the formatted broker and waits until it serves; $1 the classpath, $2 when the start began (ns).
launch() {
  local cp="$1" t0="$2"
  # Detached, with every descriptor redirected, so the caller (a test runner's exec) is not held open.
  # shellcheck disable=SC2046
  setsid nohup java $(jvm_opts) -cp "$cp" kafka.Kafka "$state/server.properties" \
    >> "$state/logs/stdout.log" 2>&1 < /dev/null &
  echo $! > "$pidfile"
  local deadline=$(( $(date +%s) + ${KAFKA_START_TIMEOUT:-90} ))
  until grep -qs "Kafka Server started" "$state/logs/server.log" && port_open "$port"; do
    if ! running_pid >/dev/null; then
      echo "kafka: the broker exited during start-up; last log lines:" >&2; tail -n 30 "$state/logs/stdout.log" "$state/logs/server.log" >&2 2>/dev/null || true
      exit 1
    fi
    if [ "$(date +%s)" -gt "$deadline" ]; then
      echo "kafka: not ready within ${KAFKA_START_TIMEOUT:-90} s; last log lines:" >&2; tail -n 30 "$state/logs/server.log" >&2 2>/dev/null || true
      stop >/dev/null; exit 1
    fi
    sleep 0.25
  done
  local ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  say "Apache Kafka $version (Maven: org.apache.kafka:kafka_2.13:$version) ready on 127.0.0.1:$port, pid $(cat "$pidfile"), started in $((ms / 1000)).$(( (ms % 1000) / 100 )) s, state $state"
}

# A broker restart that keeps its data (the chaos soak's fault): stopped with KAFKA_BOUNCE_SIGNAL
# (TERM: a controlled shutdown; KILL: a crash), down for KAFKA_BOUNCE_DOWN_S seconds, started again.
bounce() {
  local pid t0
  pid="$(running_pid)" || { echo "kafka: not running on 127.0.0.1:$port: nothing to restart" >&2; exit 1; }
  kill "-${KAFKA_BOUNCE_SIGNAL:-TERM}" "$pid"
  for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; fi
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  sleep "${KAFKA_BOUNCE_DOWN_S:-0}"
  t0=$(date +%s%N)
  # The ready check reads server.log: the last run's "started" line must not count.
  : > "$state/logs/server.log"
  launch "$(cat "$classpath_file")" "$t0"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then rm -rf "$state"; say "not running on 127.0.0.1:$port"; return 0; fi
  kill -TERM "$pid"
  for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; say "broker did not stop within 30 s: killed"; fi
  while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  rm -rf "$state"
  say "stopped the broker on 127.0.0.1:$port (pid $pid)"
}

case "${1:-}" in
  resolve) resolve ;;
  start) start ;;
  stop) stop ;;
  bounce) bounce ;;
  status) if pid="$(running_pid)"; then say "running on 127.0.0.1:$port (pid $pid)"; else say "stopped (127.0.0.1:$port)"; exit 3; fi ;;
  *) echo "usage: $0 resolve|start|stop|status" >&2; exit 2 ;;
esac
