#!/usr/bin/env bash
# Runs Apache Kafka (KRaft) without Docker: one node (broker + controller) by default,
# or a cluster of three on 127.0.0.1.
#
#   deploy/local/kafka.sh start    start in the background and wait until it answers
#   deploy/local/kafka.sh stop     stop it cleanly (SIGTERM, then wait)
#   deploy/local/kafka.sh status   exit 0 and say so when it is running
#   deploy/local/kafka.sh run      run in the foreground (for a process manager)
#   deploy/local/kafka.sh fetch    only fetch the jars (make test does, before its workers start)
#
# Cluster mode (three nodes, each broker and controller, replication factor 3,
# min.insync.replicas=2, no auto-created topics; the declared topics are created with
# `lobu topics apply` from the worktree's .venv):
#   deploy/local/kafka.sh start --brokers 3          start the cluster
#   deploy/local/kafka.sh stop --broker N [--kill]   stop node N (1-3); --kill: SIGKILL
#   deploy/local/kafka.sh start --broker N           start node N again
#   deploy/local/kafka.sh stop | status              the whole cluster
#   deploy/local/kafka.sh bootstrap                  print the cluster's bootstrap servers
# Nodes listen on KAFKA_PORTS [9092,9094,9096] and KAFKA_CONTROLLER_PORTS
# [9093,9095,9097] (by default KAFKA_PORT and KAFKA_CONTROLLER_PORT plus 0, 2, 4), with
# their storage in KAFKA_STATE_DIR/broker-N; the layout is kept in KAFKA_STATE_DIR/cluster.env.
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
heap_opts="${KAFKA_HEAP_OPTS:-}"
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
  read -r -a heap <<<"${heap_opts:--Xms256m -Xmx768m}"
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

# ---- cluster mode ---------------------------------------------------------------

cluster_env="$state_dir/cluster.env"
cluster_size=3

cluster_layout() {
  if [ -f "$cluster_env" ]; then
    # shellcheck disable=SC1090
    . "$cluster_env"
    return
  fi
  cluster_ports="${KAFKA_PORTS:-$port,$((port + 2)),$((port + 4))}"
  cluster_controller_ports="${KAFKA_CONTROLLER_PORTS:-$controller_port,$((controller_port + 2)),$((controller_port + 4))}"
}

# Point the single-node functions at node $1 of the cluster.
select_broker() {
  local n="$1" ports controllers
  IFS=, read -r -a ports <<<"$cluster_ports"
  IFS=, read -r -a controllers <<<"$cluster_controller_ports"
  port="${ports[$((n - 1))]}"
  controller_port="${controllers[$((n - 1))]}"
  node_dir="$state_dir/broker-$n"
  pid_file="$node_dir/kafka.pid"
  config_file="$node_dir/server.properties"
  voters=""
  local i
  for i in $(seq 1 "$cluster_size"); do
    voters="${voters:+$voters,}$i@127.0.0.1:${controllers[$((i - 1))]}"
  done
  mkdir -p "$node_dir/data" "$node_dir/logs"
  sed -e "s|@NODE_ID@|$n|g" -e "s|@PORT@|$port|g" \
      -e "s|@CONTROLLER_PORT@|$controller_port|g" -e "s|@VOTERS@|$voters|g" \
      -e "s|@LOG_DIR@|$node_dir/data|g" \
      "$here/kafka/server-cluster.properties.in" > "$config_file"
}

cluster_bootstrap() {
  local ports p out=""
  IFS=, read -r -a ports <<<"$cluster_ports"
  for p in "${ports[@]}"; do out="${out:+$out,}127.0.0.1:$p"; done
  echo "$out"
}

format_node() {
  if [ -f "$node_dir/data/meta.properties" ]; then
    return
  fi
  if [ ! -f "$state_dir/cluster.id" ]; then
    java -cp "$libs_dir/*" kafka.tools.StorageTool random-uuid > "$state_dir/cluster.id"
  fi
  java -cp "$libs_dir/*" \
    -Dlog4j2.configurationFile="$here/kafka/log4j2.yaml" -Dkafka.logs.dir="$node_dir/logs" \
    kafka.tools.StorageTool format -t "$(cat "$state_dir/cluster.id")" -c "$config_file" \
    --ignore-formatted >/dev/null
}

launch_node() {
  if running_pid >/dev/null; then
    return 0
  fi
  port_free "KAFKA_PORTS (node $1)" "$port"
  port_free "KAFKA_CONTROLLER_PORTS (node $1)" "$controller_port"
  format_node
  local heap
  read -r -a heap <<<"${heap_opts:--Xms192m -Xmx512m}"
  nohup java "${heap[@]}" -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$here/kafka/log4j2.yaml" -Dkafka.logs.dir="$node_dir/logs" \
    -cp "$libs_dir/*" kafka.Kafka "$config_file" >>"$node_dir/logs/console.log" 2>&1 &
  echo $! > "$pid_file"
}

await_node() {
  if ! java -cp "$libs_dir/*" "$here/kafka/AwaitBroker.java" "127.0.0.1:$port" \
    "$start_timeout" "$(cat "$pid_file")"; then
    say "node $1 did not come up; see $node_dir/logs/server.log and console.log"
    tail -n 5 "$node_dir/logs/console.log" >&2 || true
    return 1
  fi
}

apply_topics() {
  local lobu="$root/.venv/bin/lobu"
  if [ ! -x "$lobu" ]; then
    say "no $lobu (make install); create the topics with: lobu topics apply" \
      "--bootstrap $(cluster_bootstrap) --replication-factor 3 --min-insync-replicas 2"
    return 0
  fi
  "$lobu" topics apply --bootstrap "$(cluster_bootstrap)" \
    --replication-factor 3 --min-insync-replicas 2 >&2 || say "lobu topics apply failed (see above)"
}

cluster_start() {
  local only="${1:-}" n started=$SECONDS
  require_java
  fetch_jars
  cluster_layout
  mkdir -p "$state_dir"
  printf 'cluster_ports=%s\ncluster_controller_ports=%s\n' \
    "$cluster_ports" "$cluster_controller_ports" > "$cluster_env"
  # All nodes first: the controllers need a majority before any broker answers.
  for n in $(seq 1 "$cluster_size"); do
    [ -n "$only" ] && [ "$n" != "$only" ] && continue
    select_broker "$n"
    launch_node "$n"
  done
  for n in $(seq 1 "$cluster_size"); do
    [ -n "$only" ] && [ "$n" != "$only" ] && continue
    select_broker "$n"
    if ! await_node "$n"; then
      [ -z "$only" ] && cluster_stop "" TERM
      exit 1
    fi
  done
  if [ -z "$only" ]; then
    apply_topics
    say "cluster running on $(cluster_bootstrap) (ready in $((SECONDS - started)) s)"
  else
    say "node $only running on 127.0.0.1:$port (pid $(cat "$pid_file"))"
  fi
}

cluster_stop() {
  local only="${1:-}" signal="${2:-TERM}" n pid
  cluster_layout
  for n in $(seq 1 "$cluster_size"); do
    [ -n "$only" ] && [ "$n" != "$only" ] && continue
    select_broker "$n"
    if ! pid="$(running_pid)"; then
      rm -f "$pid_file"
      continue
    fi
    kill "-$signal" "$pid"
    for _ in $(seq 1 300); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$pid_file"
    say "node $n stopped ($signal)"
  done
  if [ -z "$only" ]; then
    rm -f "$cluster_env"  # the storage stays; the next start may choose other ports
  fi
}

cluster_status() {
  local n pid up=0
  cluster_layout
  for n in $(seq 1 "$cluster_size"); do
    select_broker "$n"
    if pid="$(running_pid)"; then
      say "node $n running on 127.0.0.1:$port (pid $pid)"
      up=$((up + 1))
    else
      say "node $n not running"
    fi
  done
  [ "$up" -gt 0 ]
}

command="${1:-}"
shift || true
brokers=1
broker=""
kill_signal=TERM
while [ $# -gt 0 ]; do
  case "$1" in
    --brokers) brokers="${2:-}"; shift 2 ;;
    --broker) broker="${2:-}"; shift 2 ;;
    --kill) kill_signal=KILL; shift ;;
    *) echo "kafka.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
case "$brokers" in 1 | 3) ;; *) echo "kafka.sh: --brokers takes 1 or 3" >&2; exit 2 ;; esac
case "$broker" in "" | 1 | 2 | 3) ;; *) echo "kafka.sh: --broker takes 1, 2 or 3" >&2; exit 2 ;; esac
cluster=false
if [ "$brokers" = 3 ] || [ -n "$broker" ] || [ -f "$cluster_env" ]; then
  cluster=true
fi

case "$command:$cluster" in
  start:true) cluster_start "$broker" ;;
  stop:true) cluster_stop "$broker" "$kill_signal" ;;
  status:true) cluster_status ;;
  bootstrap:true) cluster_layout; cluster_bootstrap ;;
  bootstrap:false) echo "127.0.0.1:$port" ;;
  start:false) cmd_start ;;
  stop:false) cmd_stop ;;
  status:false) cmd_status ;;
  run:false) cmd_run ;;
  fetch:*) require_java; fetch_jars ;;
  *) echo "usage: $0 start|stop|status|run|fetch|bootstrap [--brokers 3] [--broker N] [--kill]" >&2; exit 2 ;;
esac
