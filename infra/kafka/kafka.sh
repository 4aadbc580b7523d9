#!/usr/bin/env bash
# Local Apache Kafka: one KRaft node acting as broker and controller, run from jars that Maven
# resolves from Maven Central (pom.xml beside this file). No Docker needed.
#
#   kafka.sh start    start (or reuse) the broker and wait until it answers
#   kafka.sh stop     stop the broker this script started
#   kafka.sh status   say whether a broker answers, exit 0 when it does
#   kafka.sh reset    stop and delete its data (the next start formats storage again)
#
# Settings (environment): KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_STATE_DIR
# (infra/kafka/.state), KAFKA_HEAP (512m), KAFKA_START_TIMEOUT seconds (120), KAFKA_PARTITIONS (3).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
port=${KAFKA_PORT:-9092}
controller_port=${KAFKA_CONTROLLER_PORT:-9093}
state=${KAFKA_STATE_DIR:-$here/.state}
heap=${KAFKA_HEAP:-512m}
timeout=${KAFKA_START_TIMEOUT:-120}
partitions=${KAFKA_PARTITIONS:-3}
pid_file=$state/kafka.pid
log_file=$state/logs/server.log
props=$state/server.properties
classpath_file=$state/classpath.txt

say() { printf 'kafka: %s\n' "$*" >&2; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

running_pid() {
  [[ -f $pid_file ]] || return 1
  local pid
  pid=$(<"$pid_file")
  kill -0 "$pid" 2>/dev/null && printf '%s' "$pid"
}

resolve_classpath() {
  # Re-resolve only when the pom changes; Maven keeps the jars in its local repository.
  local stamp
  stamp=$(sha256sum "$here/pom.xml" | cut -c1-16)
  if [[ -f $classpath_file && -f $classpath_file.stamp && $(<"$classpath_file.stamp") == "$stamp" ]]; then
    return
  fi
  command -v mvn >/dev/null || { say "Maven (mvn) is required to fetch the Kafka jars"; exit 1; }
  command -v java >/dev/null || { say "Java 17+ is required to run Kafka"; exit 1; }
  say "resolving the Kafka jars with Maven"
  mvn -q -B -Dstyle.color=never -f "$here/pom.xml" dependency:build-classpath -Dmdep.outputFile="$classpath_file" >&2
  printf '%s' "$stamp" >"$classpath_file.stamp"
}

write_properties() {
  cat >"$props" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$state/data
num.partitions=$partitions
# One node: internal topics cannot have more replicas than brokers.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Topics are provisioned by the services with their partition counts, never created by accident.
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
log.retention.hours=168
EOF
}

java_cmd() {
  local main=$1
  shift
  java_args=(-Xms"$heap" -Xmx"$heap" -XX:+UseG1GC -Djava.awt.headless=true
    -Dlog4j2.configurationFile="$here/log4j2.properties"
    -cp "$(<"$classpath_file")" "$main" "$@")
}

run_java() {
  java_cmd "$@"
  java "${java_args[@]}"
}

format_storage() {
  [[ -f $state/data/meta.properties ]] && return
  local cluster_id
  cluster_id=$(run_java kafka.tools.StorageTool random-uuid 2>/dev/null | tail -n 1)
  say "formatting storage (cluster $cluster_id)"
  run_java kafka.tools.StorageTool format --standalone -t "$cluster_id" -c "$props" >>"$log_file" 2>&1
}

start() {
  if port_open "$port"; then
    say "a broker already answers on 127.0.0.1:$port; reusing it"
    return
  fi
  mkdir -p "$state/logs" "$state/data"
  resolve_classpath
  write_properties
  format_storage
  say "starting on 127.0.0.1:$port (log: $log_file)"
  java_cmd kafka.Kafka "$props"
  # A session of its own: the broker must outlive whatever started it (a test run, a Turborepo task
  # whose process tree is ended when it finishes).
  setsid nohup java "${java_args[@]}" >>"$log_file" 2>&1 </dev/null &
  echo $! >"$pid_file"
  local started=$SECONDS
  until port_open "$port" && grep -q 'Kafka Server started' "$log_file"; do
    if ! running_pid >/dev/null; then
      say "the broker exited during start; last log lines:"
      tail -n 30 "$log_file" >&2
      exit 1
    fi
    if ((SECONDS - started > timeout)); then
      say "no answer after ${timeout}s; see $log_file"
      exit 1
    fi
    sleep 0.25
  done
  say "ready in $((SECONDS - started))s"
}

stop() {
  local pid
  if ! pid=$(running_pid); then
    say "not running (started by this script)"
    rm -f "$pid_file"
    return
  fi
  kill "$pid"
  for _ in $(seq 1 120); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.25
  done
  kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  rm -f "$pid_file"
  say "stopped"
}

status() {
  if port_open "$port"; then
    local pid
    pid=$(running_pid) && say "up on 127.0.0.1:$port (pid $pid)" || say "up on 127.0.0.1:$port (not started by this script)"
    return 0
  fi
  say "down"
  return 1
}

case ${1:-} in
  start) start ;;
  stop) stop ;;
  status) status ;;
  reset) stop; rm -rf "$state/data" "$state/server.properties" ;;
  *) echo "usage: kafka.sh start|stop|status|reset" >&2; exit 2 ;;
esac
