#!/usr/bin/env bash
# Runs a single-node Apache Kafka broker (KRaft, broker + controller) without Docker.
#
#   deploy/local/kafka.sh start    start in the background and wait until it answers
#   deploy/local/kafka.sh stop     stop it cleanly (SIGTERM, then wait)
#   deploy/local/kafka.sh status   exit 0 and say so when it is running
#   deploy/local/kafka.sh run      run in the foreground (for a process manager)
#   deploy/local/kafka.sh fetch    only fetch the jars (make test does, before its workers start)
#
# The jars come from Maven Central once (deploy/local/kafka/pom.xml) into a
# git-ignored cache; starting again reuses them and the formatted storage.
#
# Environment (defaults in brackets):
#   KAFKA_PORT [9092]             client listener on 127.0.0.1
#   KAFKA_CONTROLLER_PORT [9093]  KRaft controller listener on 127.0.0.1
#   KAFKA_STATE_DIR [var/kafka]   storage, config, log and pid file
#   KAFKA_LIBS_DIR [.cache/kafka-libs]  where the jars are kept
#   KAFKA_HEAP_OPTS [-Xms256m -Xmx768m]
#   KAFKA_START_TIMEOUT [90]      seconds to wait for the broker to answer
# Exit status: 0 done, 1 failed, 2 usage, 3 a port is taken.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"

port="${KAFKA_PORT:-9092}"
controller_port="${KAFKA_CONTROLLER_PORT:-9093}"
state_dir="${KAFKA_STATE_DIR:-$root/var/kafka}"
libs_dir="${KAFKA_LIBS_DIR:-$root/.cache/kafka-libs}"
heap_opts="${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
start_timeout="${KAFKA_START_TIMEOUT:-90}"
pid_file="$state_dir/kafka.pid"
config_file="$state_dir/server.properties"

say() { echo "kafka.sh: $*" >&2; }

require_java() {
  if ! command -v java >/dev/null 2>&1; then
    say "Java 17 or newer is needed to run Kafka (apt-get install -y openjdk-17-jre-headless)"
    exit 1
  fi
}

# Several starts may run at once (pytest-xdist workers, each with its own broker):
# one fetches under a lock, into a temporary folder renamed when complete, and the
# others wait and reuse it. Two Maven runs copying into one folder corrupt each other.
fetch_jars() {
  if [ -f "$libs_dir/.complete" ]; then
    return
  fi
  if ! command -v mvn >/dev/null 2>&1; then
    say "Maven is needed once to fetch the Kafka jars (apt-get install -y maven)"
    exit 1
  fi
  mkdir -p "$(dirname "$libs_dir")"
  local lock_fd
  exec {lock_fd}>"$libs_dir.lock"
  flock "$lock_fd"
  if [ ! -f "$libs_dir/.complete" ]; then
    say "fetching the Kafka jars from Maven Central into $libs_dir (once)"
    local partial="$libs_dir.partial.$$"
    rm -rf "$partial"
    mkdir -p "$partial"
    if ! mvn -B -q -Dstyle.color=never --no-transfer-progress -f "$here/kafka/pom.xml" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$partial"; then
      rm -rf "$partial"
      say "Maven could not fetch the Kafka jars (see above); nothing was kept"
      exit 1
    fi
    touch "$partial/.complete"
    rm -rf "$libs_dir"
    mv "$partial" "$libs_dir"
  fi
  exec {lock_fd}>&-
}

write_config() {
  mkdir -p "$state_dir/data" "$state_dir/logs"
  sed -e "s|@PORT@|$port|g" \
      -e "s|@CONTROLLER_PORT@|$controller_port|g" \
      -e "s|@LOG_DIR@|$state_dir/data|g" \
      "$here/kafka/server.properties.in" > "$config_file"
}

format_storage() {
  if [ -f "$state_dir/data/meta.properties" ]; then
    return
  fi
  local cluster_id
  cluster_id="$(java -cp "$libs_dir/*" kafka.tools.StorageTool random-uuid)"
  java -cp "$libs_dir/*" \
    -Dlog4j2.configurationFile="$here/kafka/log4j2.yaml" -Dkafka.logs.dir="$state_dir/logs" \
    kafka.tools.StorageTool format -t "$cluster_id" -c "$config_file" --ignore-formatted >/dev/null
}

running_pid() {
  if [ -f "$pid_file" ]; then
    local pid
    pid="$(cat "$pid_file")"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
      echo "$pid"
      return 0
    fi
  fi
  return 1
}

# Before Java starts: a port another program holds would end in a stack trace.
# Exit status 3 says "port taken", so that a caller that chose the port can choose again.
port_free() {
  if (exec 3<>"/dev/tcp/127.0.0.1/$2") 2>/dev/null; then
    say "port $2 ($1) is taken by another program on 127.0.0.1; stop it, or choose a" \
      "free port: $1=<port> $0 start (for make run: deploy/local/ports.env)"
    exit 3
  fi
}

broker_command() {
  local heap
  read -r -a heap <<<"$heap_opts"
  broker_cmd=(java "${heap[@]}" -XX:+UseG1GC -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$here/kafka/log4j2.yaml"
    -Dkafka.logs.dir="$state_dir/logs"
    -cp "$libs_dir/*" kafka.Kafka "$config_file")
}

await_broker() {
  java -cp "$libs_dir/*" "$here/kafka/AwaitBroker.java" "127.0.0.1:$port" "$start_timeout" "$1"
}

prepare() {
  require_java
  fetch_jars
  write_config
  format_storage
}

cmd_start() {
  if pid="$(running_pid)"; then
    say "already running (pid $pid) on 127.0.0.1:$port"
    return 0
  fi
  port_free KAFKA_PORT "$port"
  port_free KAFKA_CONTROLLER_PORT "$controller_port"
  prepare
  local started=$SECONDS
  broker_command
  nohup "${broker_cmd[@]}" >>"$state_dir/logs/console.log" 2>&1 &
  echo $! > "$pid_file"
  if ! await_broker "$!"; then
    say "the broker did not come up; see $state_dir/logs/server.log and console.log"
    tail -n 5 "$state_dir/logs/console.log" >&2 || true
    cmd_stop || true
    exit 1
  fi
  say "running on 127.0.0.1:$port (pid $(cat "$pid_file"), ready in $((SECONDS - started)) s)"
}

cmd_stop() {
  local pid
  if ! pid="$(running_pid)"; then
    say "not running"
    rm -f "$pid_file"
    return 0
  fi
  kill -TERM "$pid"
  for _ in $(seq 1 300); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pid_file"
      say "stopped"
      return 0
    fi
    sleep 0.1
  done
  say "still running after 30 s; killing pid $pid"
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pid_file"
}

cmd_status() {
  if pid="$(running_pid)"; then
    say "running on 127.0.0.1:$port (pid $pid)"
    return 0
  fi
  say "not running"
  return 1
}

cmd_run() {
  prepare
  broker_command
  exec "${broker_cmd[@]}"
}

case "${1:-}" in
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  run) cmd_run ;;
  fetch) require_java; fetch_jars ;;
  *) echo "usage: $0 start|stop|status|run|fetch" >&2; exit 2 ;;
esac
