#!/usr/bin/env bash
# scripts/brokers.sh — real message brokers on 127.0.0.1, without Docker.
#
# Installs (idempotently) and runs, as ordinary processes on loopback:
#   rabbitmq  RabbitMQ (Debian package rabbitmq-server)              amqp://127.0.0.1:5672
#   kafka     Apache Kafka 4.x, KRaft single node (jars from Maven Central) 127.0.0.1:9092
#             (ANYMQ_KAFKA_VERSION=3.9.2 runs 3.9 instead; each version keeps its own data dir)
#   sqs       moto server (PyPI, moto[sqs,sns] + flask) for SQS + SNS http://127.0.0.1:4566
#   redis     Redis (Debian package redis-server), AOF fsync=always   127.0.0.1:6379
#   postgres  PostgreSQL (Debian package postgresql), own cluster     127.0.0.1:5432
#   nats      NATS with JetStream (Debian package nats-server), file store  nats://127.0.0.1:4222
#   pubsub    Google Pub/Sub fake (pstest, built with Go from scripts/pubsub-emulator) 127.0.0.1:8085
#   elasticmq ElasticMQ, SQS kept on disk (jars from Maven Central; only when named)  http://127.0.0.1:9324
#
# Usage: scripts/brokers.sh up|down|status|restart|env|logs [broker...]   (see `help`)
#
# Data, logs and pid files: ${ANYMQ_BROKERS_DIR:-<repo>/.brokers}   (gitignored)
# Downloads (Kafka jars, Python venv): ${ANYMQ_CACHE_DIR:-$HOME/.cache/anymq}  (outside git)
set -euo pipefail

SCRIPT_PATH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
SCRIPT_DIR="$(dirname "$SCRIPT_PATH")"
REPO_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"
BROKERS_DIR="${ANYMQ_BROKERS_DIR:-$REPO_DIR/.brokers}"
CACHE_DIR="${ANYMQ_CACHE_DIR:-$HOME/.cache/anymq}"

ALL_BROKERS=(rabbitmq kafka sqs redis postgres nats pubsub)
# Started only when named (`up elasticmq`); `env` prints their URLs while they run.
OPTIONAL_BROKERS=(elasticmq)

# Ports. The defaults are the ones docker-compose.yml publishes, so `env` fits both paths; the
# ANYMQ_*_PORT overrides exist to run a second, isolated set beside the first (`env` follows).
RABBITMQ_PORT="${ANYMQ_RABBITMQ_PORT:-5672}"
RABBITMQ_MGMT_PORT="${ANYMQ_RABBITMQ_MGMT_PORT:-15672}"
KAFKA_PORT="${ANYMQ_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${ANYMQ_KAFKA_CONTROLLER_PORT:-9093}"
MOTO_PORT="${ANYMQ_SQS_PORT:-4566}"
SQS_TLS_PORT="${ANYMQ_SQS_TLS_PORT:-4567}" # moto over HTTPS (the TLS section)
REDIS_PORT="${ANYMQ_REDIS_PORT:-6379}"
POSTGRES_PORT="${ANYMQ_POSTGRES_PORT:-5432}"
NATS_PORT="${ANYMQ_NATS_PORT:-4222}"
NATS_MONITOR_PORT="${ANYMQ_NATS_MONITOR_PORT:-8222}"
PUBSUB_PORT="${ANYMQ_PUBSUB_PORT:-8085}"
ELASTICMQ_PORT="${ANYMQ_ELASTICMQ_PORT:-9324}"

# Versions. Kafka's default is the one in scripts/kafka/pom.xml; ANYMQ_KAFKA_VERSION picks another
# (3.9.2, the last 3.x, for clients that need the protocol versions 4.0 removed).
KAFKA_DEFAULT_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$SCRIPT_DIR/kafka/pom.xml")"
KAFKA_VERSION="${ANYMQ_KAFKA_VERSION:-$KAFKA_DEFAULT_VERSION}"
KAFKA_MAJOR="${KAFKA_VERSION%%.*}"
# moto's server mode (what `moto[server]` adds: flask + flask-cors) with only the extras anymq
# uses (SQS, SNS, EventBridge = `events`, Kinesis, DynamoDB): `moto[server]` pulls the dependencies
# of every AWS service moto mocks, ~2.5x slower to install. awscli is for interop tests and checking
# by hand: `$ANYMQ_AWS_CLI --endpoint-url ... sqs list-queues`.
PY_REQUIREMENTS=("moto[sqs,sns,events,kinesis,dynamodb]==5.2.5" "flask==3.1.3" "flask-cors==6.0.5" "awscli==1.46.3")

READY_TIMEOUT="${ANYMQ_BROKERS_TIMEOUT:-120}" # seconds to wait for one broker to become ready

INSTALL_LOG="$BROKERS_DIR/install.log"
APT_UPDATED=""

# ----------------------------------------------------------------------------------------------
# small helpers
# ----------------------------------------------------------------------------------------------
say() { printf '%s\n' "brokers: $*" >&2; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }
is_root() { [ "$(id -u)" = 0 ]; }

# Last error message set by a failing step; printed by fail_broker. FAIL_LOGS=install|none
# says which log tail is worth printing (default: the broker's own logs).
FAIL_REASON=""
FAIL_LOGS=""
fail() {
  FAIL_REASON="$*"
  return 1
}

# Print a loud failure report for one broker: reason + tail of its log(s).
fail_broker() { # broker
  local b="$1" f files
  case "$FAIL_LOGS" in
  install) files="$INSTALL_LOG" ;;
  none) files="" ;;
  *) files="$("${b}_logfiles")" ;;
  esac
  {
    echo "=================================================================="
    echo "brokers: $b FAILED: ${FAIL_REASON:-unknown error}"
    for f in $files; do
      [ -s "$f" ] || continue
      echo "---- last 40 lines of $f ----"
      tail -n 40 "$f"
    done
    echo "=================================================================="
  } >&2
}

# Is something accepting TCP connections on 127.0.0.1:PORT?
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

port_owner() { # port -> "process name (pid)" or empty
  ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:((\("[^"]*",pid=[0-9]*\).*/\1/p' | head -1
}

# Is the process in PIDFILE alive AND still the one we started? Its command line must contain
# MARKER: after a reboot or a new session a stale pid file may name some unrelated process.
pid_alive() { # pidfile marker
  local pid
  [ -s "$1" ] || return 1
  pid="$(head -n 1 "$1" 2>/dev/null)" || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# Send SIGTERM to the process in PIDFILE, wait up to SECS for it to exit, then SIGKILL.
stop_pidfile() { # pidfile marker secs
  local pidfile="$1" marker="$2" secs="${3:-30}" pid i
  pid_alive "$pidfile" "$marker" || { rm -f "$pidfile"; return 0; }
  pid="$(head -n 1 "$pidfile")"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 4; i++)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
    sleep 0.25
  done
  say "pid $pid did not stop within ${secs}s; killing it"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 0.5
  rm -f "$pidfile"
}

# Start a command in the background, detached from this shell's session, writing its pid.
spawn() { # pidfile logfile cmd...
  local pidfile="$1" logfile="$2"
  shift 2
  # setsid: the broker outlives this script and is not hit by signals sent to our process group.
  # The inner shell writes its own pid, then exec's the command, so the pid stays the broker's.
  nohup setsid bash -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "$@" >>"$logfile" 2>&1 </dev/null &
  local i
  for ((i = 0; i < 200; i++)); do
    [ -s "$pidfile" ] && return 0
    sleep 0.05
  done
  fail "could not start: $*"
}

# Poll CHECK (a function name + args) until it succeeds, ALIVE (a function, or "") says the
# broker's process is gone, or the timeout.
wait_ready() { # alive what check...
  local alive="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + READY_TIMEOUT))
  while ((SECONDS < deadline)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    if [ -n "$alive" ] && ! "$alive"; then
      fail "$what: process exited during start-up"
      return 1
    fi
    sleep 0.5
  done
  fail "$what: not ready after ${READY_TIMEOUT}s"
}

# ----------------------------------------------------------------------------------------------
# installation (Debian packages, Kafka jars, Python venv)
# ----------------------------------------------------------------------------------------------
apt_missing() { # pkg... -> prints those not installed
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || echo "$p"
  done
}

apt_install() { # pkg...
  local missing sudo=""
  missing=$(apt_missing "$@")
  [ -n "$missing" ] || return 0
  is_root || sudo="sudo"
  # shellcheck disable=SC2086
  say "installing Debian packages: $(echo $missing | tr '\n' ' ')"
  if [ -z "$APT_UPDATED" ]; then
    $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq >>"$INSTALL_LOG" 2>&1 || fail "apt-get update failed" || return 1
    APT_UPDATED=1
  fi
  # The packages' own service start is refused by policy-rc.d in containers (harmless). On a
  # machine with systemd it starts the system's instance on the same port: stop that one.
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $missing \
    >>"$INSTALL_LOG" 2>&1 || fail "apt-get install $missing failed"
}

# Debian packages the given brokers need (only those whose commands are missing).
debian_packages_for() { # broker...
  local b pkgs=()
  for b in "$@"; do
    case "$b" in
    rabbitmq) pkgs+=(rabbitmq-server) ;;
    redis) pkgs+=(redis-server redis-tools) ;;
    postgres) pkgs+=(postgresql) ;;
    nats) command -v nats-server >/dev/null || pkgs+=(nats-server) ;;
    pubsub) command -v curl >/dev/null || pkgs+=(curl) ;;
    elasticmq)
      command -v curl >/dev/null || pkgs+=(curl)
      command -v java >/dev/null || pkgs+=(default-jre-headless)
      [ -f "$(elasticmq_libs)/.complete" ] || command -v mvn >/dev/null || pkgs+=(maven)
      ;;
    kafka)
      pkgs+=(kcat)
      command -v java >/dev/null || pkgs+=(default-jre-headless)
      [ -f "$(kafka_libs)/.complete" ] || command -v mvn >/dev/null || pkgs+=(maven)
      ;;
    sqs)
      command -v curl >/dev/null || pkgs+=(curl)
      if [ ! -x "$VENV_DIR/bin/python" ]; then
        command -v python3 >/dev/null || pkgs+=(python3)
        python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || pkgs+=(python3-venv)
      fi
      ;;
    esac
  done
  echo "${pkgs[@]}"
}

# ----------------------------------------------------------------------------------------------
# RabbitMQ
# ----------------------------------------------------------------------------------------------
RMQ_DIR="$BROKERS_DIR/rabbitmq"
RMQ_NODE="anymq${ANYMQ_RABBITMQ_PORT:+-$RABBITMQ_PORT}@localhost" # one Erlang node name per port
RMQ_BIN=/usr/lib/rabbitmq/bin # run the scripts directly (the /usr/sbin wrappers `su rabbitmq`)

rabbitmq_logfiles() { ls "$RMQ_DIR"/log/*.log "$RMQ_DIR/startup.log" 2>/dev/null || true; }

# Everything a rabbitmq command needs, isolated from the system's node and config.
rabbitmq_run() { # cmd args...
  local cmd="$1"
  shift
  env HOME="$RMQ_DIR/home" \
    RABBITMQ_NODENAME="$RMQ_NODE" \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
    RABBITMQ_NODE_PORT="$RABBITMQ_PORT" \
    RABBITMQ_MNESIA_BASE="$RMQ_DIR/mnesia" \
    RABBITMQ_LOG_BASE="$RMQ_DIR/log" \
    RABBITMQ_PID_FILE="$RMQ_DIR/rabbitmq.pid" \
    RABBITMQ_CONFIG_FILE="$RMQ_DIR/rabbitmq.conf" \
    RABBITMQ_ADVANCED_CONFIG_FILE="$RMQ_DIR/advanced.config" \
    RABBITMQ_ENABLED_PLUGINS_FILE="$RMQ_DIR/enabled_plugins" \
    RABBITMQ_CONF_ENV_FILE="$RMQ_DIR/rabbitmq-env.conf" \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
    ERL_EPMD_ADDRESS=127.0.0.1 \
    "$RMQ_BIN/$cmd" "$@"
}

rabbitmq_ours() { pid_alive "$RMQ_DIR/rabbitmq.pid" "$RMQ_DIR/home"; }

# Protocol-level check: send the AMQP 0-9-1 header, expect a Connection.Start method frame.
rabbitmq_ready() {
  local first
  first=$(timeout 3 bash -c '
    exec 3<>"/dev/tcp/127.0.0.1/$0" || exit 1
    printf "AMQP\x00\x00\x09\x01" >&3
    head -c 1 <&3 | od -An -tx1' "$RABBITMQ_PORT" 2>/dev/null) || return 1
  [ "$(echo "$first" | tr -d ' ')" = "01" ]
}

rabbitmq_start() {
  mkdir -p "$RMQ_DIR/home" "$RMQ_DIR/mnesia" "$RMQ_DIR/log"
  cat >"$RMQ_DIR/rabbitmq.conf" <<EOF
# generated by scripts/brokers.sh
listeners.tcp.1 = 127.0.0.1:$RABBITMQ_PORT
management.tcp.ip = 127.0.0.1
management.tcp.port = $RABBITMQ_MGMT_PORT
EOF
  rabbitmq_tls_conf >>"$RMQ_DIR/rabbitmq.conf"
  # The management plugin (HTTP API/UI on 127.0.0.1:15672) is opt-in: it makes every stop
  # about 5 s slower, which the conformance suite's restartBroker hook would pay each time.
  if [ "${ANYMQ_RABBITMQ_MANAGEMENT:-0}" = 1 ]; then
    echo '[rabbitmq_management].' >"$RMQ_DIR/enabled_plugins"
  else
    echo '[].' >"$RMQ_DIR/enabled_plugins"
  fi
  echo '# generated by scripts/brokers.sh: keeps /etc/rabbitmq/rabbitmq-env.conf out' >"$RMQ_DIR/rabbitmq-env.conf"
  rm -f "$RMQ_DIR/rabbitmq.pid"
  echo "==== $(date -Is) starting rabbitmq-server -detached ====" >>"$RMQ_DIR/startup.log"
  (cd "$RMQ_DIR" && rabbitmq_run rabbitmq-server -detached) >>"$RMQ_DIR/startup.log" 2>&1 ||
    fail "rabbitmq-server -detached failed" || return 1
  # `rabbitmqctl wait <pidfile>` is `await_startup` that also copes with a node not yet
  # registered: it waits for the pid file, then for the rabbit application to be running.
  rabbitmq_run rabbitmqctl -q wait --timeout "$READY_TIMEOUT" "$RMQ_DIR/rabbitmq.pid" >>"$RMQ_DIR/startup.log" 2>&1 ||
    fail "rabbitmqctl wait (await startup of node $RMQ_NODE) failed" || return 1
  wait_ready rabbitmq_ours "AMQP handshake on 127.0.0.1:$RABBITMQ_PORT" rabbitmq_ready || return 1
  rabbitmq_tls_users
}

# SIGTERM makes the Erlang VM run the same orderly shutdown as `rabbitmqctl stop` (queues and
# message stores are closed cleanly), without the ~2 s start-up of the CLI tool.
rabbitmq_stop() { stop_pidfile "$RMQ_DIR/rabbitmq.pid" "$RMQ_DIR/home" 60; }

rabbitmq_pids() { if rabbitmq_ours; then cat "$RMQ_DIR/rabbitmq.pid"; fi; }

# epmd (Erlang port mapper) is started by the first Erlang node; stop it if no node is left.
epmd_cleanup() {
  command -v epmd >/dev/null || return 0
  local names
  names=$(ERL_EPMD_ADDRESS=127.0.0.1 epmd -names 2>/dev/null) || return 0
  if ! echo "$names" | grep -q '^name '; then
    ERL_EPMD_ADDRESS=127.0.0.1 epmd -kill >/dev/null 2>&1 || true
  fi
}


# ----------------------------------------------------------------------------------------------
# Kafka (KRaft, single node: broker + controller in one JVM)
# ----------------------------------------------------------------------------------------------
KAFKA_DIR="$BROKERS_DIR/kafka"
KAFKA_PROBE_TOPIC="anymq-brokers-probe"

kafka_libs() { echo "$CACHE_DIR/kafka-$KAFKA_VERSION/libs"; }
kafka_logfiles() { echo "$KAFKA_DIR/kafka.log"; }
kafka_ours() { pid_alive "$KAFKA_DIR/kafka.pid" "$KAFKA_DIR/server.properties"; }
kafka_pids() { if kafka_ours; then cat "$KAFKA_DIR/kafka.pid"; fi; }

kafka_install() {
  local libs tmp
  libs="$(kafka_libs)"
  [ -f "$libs/.complete" ] && return 0
  say "kafka: fetching Apache Kafka $KAFKA_VERSION jars from Maven Central into $libs"
  tmp="$libs.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  local profile=()
  # 3.x logs through reload4j (log4j 1.2), 4.x through log4j2: the pom's profiles pick the jars.
  [ "$KAFKA_MAJOR" -lt 4 ] && profile=(-Pkafka3)
  mvn -q -B -f "$SCRIPT_DIR/kafka/pom.xml" dependency:copy-dependencies "${profile[@]}" \
    -Dkafka.version="$KAFKA_VERSION" -DincludeScope=runtime -DoutputDirectory="$tmp" >>"$INSTALL_LOG" 2>&1 ||
    { rm -rf "$tmp"; fail "mvn dependency:copy-dependencies failed (scripts/kafka/pom.xml)"; return 1; }
  [ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ] || { rm -rf "$tmp"; fail "kafka_2.13-$KAFKA_VERSION.jar missing after mvn"; return 1; }
  touch "$tmp/.complete"
  rm -rf "$libs"
  mv "$tmp" "$libs"
}

# One data dir per version: a log formatted by 4.x cannot be read by 3.9, and switching back and
# forth should not need a wipe.
kafka_data() { echo "$KAFKA_DIR/data-$KAFKA_VERSION"; }

kafka_write_config() {
  mkdir -p "$(kafka_data)"
  local quorum
  # 4.x: a dynamic quorum (KIP-853), bootstrapped by `format --standalone`; 3.9 keeps static voters.
  if [ "$KAFKA_MAJOR" -ge 4 ]; then
    quorum="controller.quorum.bootstrap.servers=127.0.0.1:$KAFKA_CONTROLLER_PORT"
  else
    quorum="controller.quorum.voters=1@127.0.0.1:$KAFKA_CONTROLLER_PORT"
  fi
  cat >"$KAFKA_DIR/server.properties" <<EOF
# generated by scripts/brokers.sh — single-node KRaft, loopback only, Apache Kafka $KAFKA_VERSION
process.roles=broker,controller
node.id=1
$quorum
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$(kafka_data)
num.partitions=1
default.replication.factor=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
delete.topic.enable=true
EOF
  cat >"$KAFKA_DIR/log4j.properties" <<'EOF'
# generated by scripts/brokers.sh (Kafka 3.x: log4j 1.2 API through reload4j)
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.server.KafkaConfig=WARN
log4j.logger.org.apache.kafka.common.config.AbstractConfig=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
EOF
  cat >"$KAFKA_DIR/log4j2.properties" <<'EOF'
# generated by scripts/brokers.sh (Kafka 4.x: log4j2)
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
rootLogger.level=INFO
rootLogger.appenderRef.stdout.ref=STDOUT
logger.config.name=org.apache.kafka.common.config.AbstractConfig
logger.config.level=WARN
logger.kafkaconfig.name=kafka.server.KafkaConfig
logger.kafkaconfig.level=WARN
logger.state.name=state.change.logger
logger.state.level=WARN
logger.cleaner.name=kafka.log.LogCleaner
logger.cleaner.level=WARN
EOF
  kafka_tls_config
}

# java + options for the broker and its tools (512 MB heap is plenty for tests).
kafka_java_cmd() {
  local logging="-Dlog4j2.configurationFile=$KAFKA_DIR/log4j2.properties"
  [ "$KAFKA_MAJOR" -lt 4 ] && logging="-Dlog4j.configuration=file:$KAFKA_DIR/log4j.properties"
  KAFKA_JAVA=(java -Xmx512m -Xms256m -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true
    "$logging" -cp "$(kafka_libs)/*")
}
kafka_java() { # main-class args...
  kafka_java_cmd
  "${KAFKA_JAVA[@]}" "$@"
}

kafka_format() {
  [ -f "$(kafka_data)/meta.properties" ] && return 0
  local cid
  if [ ! -s "$KAFKA_DIR/cluster.id" ]; then
    cid=$(kafka_java kafka.tools.StorageTool random-uuid 2>>"$KAFKA_DIR/kafka.log" | tail -1)
    [ -n "$cid" ] || fail "kafka StorageTool random-uuid failed" || return 1
    echo "$cid" >"$KAFKA_DIR/cluster.id"
  fi
  local standalone=()
  [ "$KAFKA_MAJOR" -ge 4 ] && standalone=(--standalone)
  kafka_java kafka.tools.StorageTool format -t "$(cat "$KAFKA_DIR/cluster.id")" \
    -c "$KAFKA_DIR/server.properties" "${standalone[@]}" >>"$KAFKA_DIR/kafka.log" 2>&1 ||
    fail "kafka StorageTool format failed"
}

# Metadata request answered by broker 1 on our listener.
kafka_ready() {
  kcat -b "127.0.0.1:$KAFKA_PORT" -m 5 -L 2>/dev/null | grep -q "broker 1 at 127.0.0.1:$KAFKA_PORT"
}

# Real round trip: produce one message, read it back, and read through a consumer group.
kafka_probe() {
  local token got
  token="probe-$(date +%s%N)-$$"
  printf '%s\n' "$token" | kcat -b "127.0.0.1:$KAFKA_PORT" -P -t "$KAFKA_PROBE_TOPIC" -m 15 \
    -X message.timeout.ms=10000 2>/dev/null || return 1
  got=$(timeout 20 kcat -b "127.0.0.1:$KAFKA_PORT" -C -t "$KAFKA_PROBE_TOPIC" -o -1 -c 1 -e -q -m 10 2>/dev/null) || return 1
  [ "$got" = "$token" ] || return 1
  # consumer group: join, get the partition assigned, fetch one message, commit.
  got=$(timeout 30 kcat -b "127.0.0.1:$KAFKA_PORT" -G anymq-brokers-probe -X auto.offset.reset=earliest \
    -c 1 -q "$KAFKA_PROBE_TOPIC" 2>/dev/null) || return 1
  [ -n "$got" ]
}

kafka_start() {
  kafka_write_config
  kafka_format || return 1
  rm -f "$KAFKA_DIR/kafka.pid"
  echo "==== $(date -Is) starting Apache Kafka $KAFKA_VERSION ====" >>"$KAFKA_DIR/kafka.log"
  kafka_java_cmd
  spawn "$KAFKA_DIR/kafka.pid" "$KAFKA_DIR/kafka.log" \
    "${KAFKA_JAVA[@]}" kafka.Kafka "$KAFKA_DIR/server.properties" || return 1
  wait_ready kafka_ours "kcat -L (metadata) on 127.0.0.1:$KAFKA_PORT" kafka_ready || return 1
  wait_ready kafka_ours "kcat produce+consume+consumer group on '$KAFKA_PROBE_TOPIC'" kafka_probe || return 1
  kafka_tls_users
}

kafka_stop() {
  # SIGTERM = controlled shutdown; logs are flushed, the data dir is kept.
  stop_pidfile "$KAFKA_DIR/kafka.pid" "$KAFKA_DIR/server.properties" 60
}

# ----------------------------------------------------------------------------------------------
# SQS + SNS (moto server). State is in memory: a restart starts empty.
# ----------------------------------------------------------------------------------------------
MOTO_DIR="$BROKERS_DIR/moto"
# One venv per set of pins, named by their hash: changing the pins builds a new venv beside the old
# one instead of replacing it under a moto server another checkout is running from.
VENV_DIR="$CACHE_DIR/venv-$(printf '%s\n' "${PY_REQUIREMENTS[@]}" | sha256sum | cut -c1-12)"

sqs_logfiles() { echo "$MOTO_DIR/moto.log" "$MOTO_DIR/moto-tls.log"; }
MOTO_MARKER="moto_server -H 127.0.0.1 -p $MOTO_PORT"
# A second moto over HTTPS with the CA's server certificate (its own state: a separate account, in effect).
MOTO_TLS_MARKER="moto_server -H 127.0.0.1 -p $SQS_TLS_PORT"
sqs_ours() { pid_alive "$MOTO_DIR/moto.pid" "$MOTO_MARKER"; }
sqs_tls_ours() { pid_alive "$MOTO_DIR/moto-tls.pid" "$MOTO_TLS_MARKER"; }
sqs_pids() {
  if sqs_ours; then cat "$MOTO_DIR/moto.pid"; fi
  if sqs_tls_ours; then cat "$MOTO_DIR/moto-tls.pid"; fi
}

sqs_install() {
  local want
  want="${PY_REQUIREMENTS[*]}"
  if [ -x "$VENV_DIR/bin/moto_server" ] && [ "$(cat "$VENV_DIR/.anymq-requirements" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  say "sqs: installing $want into $VENV_DIR (PyPI)"
  mkdir -p "$CACHE_DIR"
  rm -rf "$VENV_DIR" # a half-built venv of an interrupted install (this path holds only these pins)
  python3 -m venv "$VENV_DIR" >>"$INSTALL_LOG" 2>&1 || fail "python3 -m venv $VENV_DIR failed" || return 1
  # --no-compile: byte-compiling botocore's thousands of files is most of the install time;
  # Python compiles what it imports on first use instead.
  "$VENV_DIR/bin/pip" install -q --no-compile --disable-pip-version-check "${PY_REQUIREMENTS[@]}" >>"$INSTALL_LOG" 2>&1 ||
    fail "pip install ${PY_REQUIREMENTS[*]} failed" || return 1
  echo "$want" >"$VENV_DIR/.anymq-requirements"
}

# A signed-looking header is how moto routes a request to a service; the signature is not checked.
moto_call() { # service target-or-empty data
  local svc="$1" target="$2" data="$3"
  local auth="AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/$svc/aws4_request, SignedHeaders=host, Signature=0"
  if [ -n "$target" ]; then
    curl -fsS -m 5 -H "Authorization: $auth" -H 'Content-Type: application/x-amz-json-1.0' \
      -H "X-Amz-Target: $target" -d "$data" "http://127.0.0.1:$MOTO_PORT/"
  else
    curl -fsS -m 5 -H "Authorization: $auth" -d "$data" "http://127.0.0.1:$MOTO_PORT/"
  fi
}

# SQS ListQueues (JSON protocol) and SNS ListTopics (query protocol) both answer.
sqs_ready() {
  moto_call sqs AmazonSQS.ListQueues '{}' | grep -q '^{' &&
    moto_call sns "" 'Action=ListTopics&Version=2010-03-31' | grep -q '<ListTopicsResponse' &&
    { ! tls_enabled || sqs_tls_ready; }
}

# The HTTPS moto answers, and its certificate verifies against the CA.
sqs_tls_ready() {
  curl -fsS -m 5 --cacert "$TLS_DIR/ca.pem" -H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: AmazonSQS.ListQueues' \
    -H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=0' \
    -d '{}' "https://127.0.0.1:$SQS_TLS_PORT/" | grep -q '^{'
}

sqs_start() {
  mkdir -p "$MOTO_DIR"
  rm -f "$MOTO_DIR/moto.pid"
  echo "==== $(date -Is) starting moto server ====" >>"$MOTO_DIR/moto.log"
  spawn "$MOTO_DIR/moto.pid" "$MOTO_DIR/moto.log" \
    "$VENV_DIR/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT" || return 1
  if tls_enabled; then
    rm -f "$MOTO_DIR/moto-tls.pid"
    echo "==== $(date -Is) starting moto server (https) ====" >>"$MOTO_DIR/moto-tls.log"
    spawn "$MOTO_DIR/moto-tls.pid" "$MOTO_DIR/moto-tls.log" \
      "$VENV_DIR/bin/moto_server" -H 127.0.0.1 -p "$SQS_TLS_PORT" -c "$TLS_DIR/server.pem" -k "$TLS_DIR/server.key" || return 1
  fi
  wait_ready sqs_ours "SQS ListQueues / SNS ListTopics on http://127.0.0.1:$MOTO_PORT (and https://127.0.0.1:$SQS_TLS_PORT)" sqs_ready
}

sqs_stop() {
  stop_pidfile "$MOTO_DIR/moto-tls.pid" "$MOTO_TLS_MARKER" 15
  stop_pidfile "$MOTO_DIR/moto.pid" "$MOTO_MARKER" 15
}

# ----------------------------------------------------------------------------------------------
# ElasticMQ (opt-in: not in `up` without names). An SQS server that keeps queues and messages on
# disk (H2), so SQS can be SIGKILLed and restarted without losing what it confirmed. No SNS: with
# it, topics fail; queues, delays, dead letters and FIFO work. Jars from Maven Central.
# ----------------------------------------------------------------------------------------------
ELASTICMQ_DIR="$BROKERS_DIR/elasticmq"
ELASTICMQ_VERSION="$(sed -n 's:.*<elasticmq.version>\(.*\)</elasticmq.version>.*:\1:p' "$SCRIPT_DIR/elasticmq/pom.xml")"

elasticmq_libs() { echo "$CACHE_DIR/elasticmq-$ELASTICMQ_VERSION/libs"; }
elasticmq_logfiles() { echo "$ELASTICMQ_DIR/elasticmq.log"; }
elasticmq_ours() { pid_alive "$ELASTICMQ_DIR/elasticmq.pid" "$ELASTICMQ_DIR/elasticmq.conf"; }
elasticmq_pids() { if elasticmq_ours; then cat "$ELASTICMQ_DIR/elasticmq.pid"; fi; }

elasticmq_install() {
  local libs tmp
  libs="$(elasticmq_libs)"
  [ -f "$libs/.complete" ] && return 0
  say "elasticmq: fetching ElasticMQ $ELASTICMQ_VERSION jars from Maven Central into $libs"
  tmp="$libs.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$tmp"
  mvn -q -B -f "$SCRIPT_DIR/elasticmq/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" >>"$INSTALL_LOG" 2>&1 ||
    { rm -rf "$tmp"; fail "mvn dependency:copy-dependencies failed (scripts/elasticmq/pom.xml)"; return 1; }
  [ -f "$tmp/elasticmq-server_2.13-$ELASTICMQ_VERSION.jar" ] || { rm -rf "$tmp"; fail "elasticmq-server_2.13-$ELASTICMQ_VERSION.jar missing after mvn"; return 1; }
  touch "$tmp/.complete"
  rm -rf "$libs"
  mv "$tmp" "$libs"
}

# The account id and region are the ones moto answers with, so queue URLs look alike on both.
elasticmq_write_config() {
  mkdir -p "$ELASTICMQ_DIR/data"
  cat >"$ELASTICMQ_DIR/elasticmq.conf" <<CONF
# generated by scripts/brokers.sh — ElasticMQ on loopback, queues and messages kept on disk
include classpath("application.conf")
node-address { protocol = http, host = "127.0.0.1", port = $ELASTICMQ_PORT, context-path = "" }
rest-sqs { enabled = true, bind-port = $ELASTICMQ_PORT, bind-hostname = "127.0.0.1", sqs-limits = strict }
rest-stats { enabled = false }
generate-node-address = false
# WRITE_DELAY=0: H2 writes a commit at once (its default waits up to 500 ms, which a SIGKILL loses).
messages-storage { enabled = true, uri = "jdbc:h2:$ELASTICMQ_DIR/data/messages;WRITE_DELAY=0" }
queues-storage { enabled = true, path = "$ELASTICMQ_DIR/data/queues.conf" }
aws { region = "us-east-1", accountId = "123456789012" }
CONF
}

elasticmq_ready() {
  curl -fsS -m 5 -H 'Content-Type: application/x-amz-json-1.0' -H 'X-Amz-Target: AmazonSQS.ListQueues' \
    -d '{}' "http://127.0.0.1:$ELASTICMQ_PORT/" | grep -q '"QueueUrls"'
}

elasticmq_start() {
  command -v java >/dev/null || fail "java not found (Debian package default-jre-headless)" || return 1
  elasticmq_write_config
  rm -f "$ELASTICMQ_DIR/elasticmq.pid"
  echo "==== $(date -Is) starting ElasticMQ $ELASTICMQ_VERSION ====" >>"$ELASTICMQ_DIR/elasticmq.log"
  spawn "$ELASTICMQ_DIR/elasticmq.pid" "$ELASTICMQ_DIR/elasticmq.log" \
    java -Xms64m -Xmx256m -XX:+UseSerialGC -Dconfig.file="$ELASTICMQ_DIR/elasticmq.conf" \
    -cp "$(elasticmq_libs)/*" org.elasticmq.server.Main || return 1
  wait_ready elasticmq_ours "ElasticMQ ListQueues on http://127.0.0.1:$ELASTICMQ_PORT" elasticmq_ready
}

elasticmq_stop() { stop_pidfile "$ELASTICMQ_DIR/elasticmq.pid" "$ELASTICMQ_DIR/elasticmq.conf" 30; }

# ----------------------------------------------------------------------------------------------
# Redis (append-only file, fsync on every write: nothing acknowledged is lost on restart)
# ----------------------------------------------------------------------------------------------
REDIS_DIR="$BROKERS_DIR/redis"

redis_logfiles() { echo "$REDIS_DIR/redis.log"; }
REDIS_MARKER="redis-server 127.0.0.1:$REDIS_PORT" # the process title redis sets
redis_ours() { pid_alive "$REDIS_DIR/redis.pid" "$REDIS_MARKER"; }
redis_pids() { if redis_ours; then cat "$REDIS_DIR/redis.pid"; fi; }

redis_ready() {
  [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]
}

redis_start() {
  mkdir -p "$REDIS_DIR/data"
  rm -f "$REDIS_DIR/redis.pid"
  local tls_args
  mapfile -t tls_args < <(redis_tls_args)
  redis-server "${tls_args[@]}" --bind 127.0.0.1 --port "$REDIS_PORT" --protected-mode yes \
    --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/redis.log" \
    --dir "$REDIS_DIR/data" --appendonly yes --appendfsync always --save "" \
    >>"$REDIS_DIR/redis.log" 2>&1 || fail "redis-server failed to start" || return 1
  local i
  for ((i = 0; i < 40; i++)); do
    [ -s "$REDIS_DIR/redis.pid" ] && break
    sleep 0.1
  done
  wait_ready redis_ours "redis-cli PING on 127.0.0.1:$REDIS_PORT" redis_ready
}

# SIGTERM makes redis fsync the AOF and exit cleanly.
redis_stop() { stop_pidfile "$REDIS_DIR/redis.pid" "$REDIS_MARKER" 30; }

# ----------------------------------------------------------------------------------------------
# TLS + authentication: a local certificate authority (openssl) and, beside every plain listener,
# a TLS one that demands a password: RabbitMQ amqps (user + vhost), Redis rediss (ACL user),
# Kafka SASL_SSL (SCRAM-SHA-512); SQS/SNS over HTTPS is a second moto (AWS checks no password here). Certificates are made at run time into $TLS_DIR (gitignored).
# ANYMQ_TLS=0 leaves the TLS listeners out.
# ----------------------------------------------------------------------------------------------
TLS_DIR="$BROKERS_DIR/tls"
RABBITMQ_TLS_PORT="${ANYMQ_RABBITMQ_TLS_PORT:-5671}"
REDIS_TLS_PORT="${ANYMQ_REDIS_TLS_PORT:-6380}"
KAFKA_TLS_PORT="${ANYMQ_KAFKA_TLS_PORT:-9094}"
# Test credentials of the TLS listeners. `anymq-noperm` has a valid password and no permission.
TLS_USER="anymq-tls"
TLS_PASSWORD="anymq-tls-Pa55word"
TLS_NOPERM_USER="anymq-noperm"
# RabbitMQ only: may read and write on the TLS vhost but not configure (declare) anything, for
# `anymq conformance` failing meaningfully on a broker with a feature removed.
NOCONFIGURE_USER="anymq-noconfigure"
TLS_VHOST="anymq-tls"

tls_enabled() { [ "${ANYMQ_TLS:-1}" != 0 ]; }

# One certificate signed by the CA: tls_issue name subject-alt-names [openssl-ca date options...]
tls_issue() {
  local name="$1" san="$2"
  shift 2
  openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$TLS_DIR/$name.key" 2>/dev/null || return 1
  openssl req -new -key "$TLS_DIR/$name.key" -subj "/CN=$name" -out "$TLS_DIR/$name.csr" 2>/dev/null || return 1
  printf 'subjectAltName = %s\nextendedKeyUsage = serverAuth, clientAuth\n' "$san" >"$TLS_DIR/$name.ext"
  # `openssl ca` rather than `x509 -req`: only it takes explicit start and end dates (the expired one).
  openssl ca -batch -notext -config "$TLS_DIR/ca.cnf" -extfile "$TLS_DIR/$name.ext" -in "$TLS_DIR/$name.csr" \
    -out "$TLS_DIR/$name.pem" "$@" >>"$TLS_DIR/openssl.log" 2>&1 || return 1
  rm -f "$TLS_DIR/$name.csr" "$TLS_DIR/$name.ext"
}

# CA, server certificate for localhost/127.0.0.1, client certificate (mTLS), an expired server
# certificate, one for another host name, and a second CA that signed none of them (the "wrong CA" of the tests). Idempotent.
tls_ensure_ca() {
  tls_enabled || return 0
  [ -f "$TLS_DIR/.complete" ] && return 0
  command -v openssl >/dev/null || fail "openssl not found (Debian package openssl)" || return 1
  rm -rf "$TLS_DIR"
  mkdir -p "$TLS_DIR/issued"
  : >"$TLS_DIR/index.txt"
  echo 1000 >"$TLS_DIR/serial"
  cat >"$TLS_DIR/ca.cnf" <<CNF
[ ca ]
default_ca = anymq
[ anymq ]
dir = $TLS_DIR
database = \$dir/index.txt
serial = \$dir/serial
new_certs_dir = \$dir/issued
certificate = \$dir/ca.pem
private_key = \$dir/ca.key
default_md = sha256
default_days = 825
policy = any
unique_subject = no
copy_extensions = none
[ any ]
commonName = supplied
CNF
  local ca
  for ca in ca other-ca; do
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 -subj "/CN=anymq test $ca" \
      -keyout "$TLS_DIR/$ca.key" -out "$TLS_DIR/$ca.pem" >>"$TLS_DIR/openssl.log" 2>&1 || fail "openssl: creating $ca failed" || return 1
  done
  tls_issue server "DNS:localhost, IP:127.0.0.1" || fail "openssl: server certificate failed" || return 1
  tls_issue client "DNS:$TLS_USER" || fail "openssl: client certificate failed" || return 1
  tls_issue expired "DNS:localhost, IP:127.0.0.1" -startdate 20200101000000Z -enddate 20200102000000Z ||
    fail "openssl: expired certificate failed" || return 1
  tls_issue wrong-host "DNS:elsewhere.invalid" || fail "openssl: wrong-host certificate failed" || return 1
  # The brokers run as this user (postgres as `postgres`): the keys stay readable by their owner only.
  chmod 600 "$TLS_DIR"/*.key
  touch "$TLS_DIR/.complete"
}

# Lines for rabbitmq.conf: an amqps listener; a client certificate is checked when one is sent.
rabbitmq_tls_conf() {
  tls_enabled || return 0
  cat <<CONF
listeners.ssl.default = 127.0.0.1:$RABBITMQ_TLS_PORT
ssl_options.cacertfile = $TLS_DIR/ca.pem
ssl_options.certfile = $TLS_DIR/server.pem
ssl_options.keyfile = $TLS_DIR/server.key
ssl_options.verify = verify_peer
ssl_options.fail_if_no_peer_cert = false
CONF
}

# The TLS user (all permissions on its vhost) and the user without any permission. Idempotent;
# one rabbitmqctl call when they exist already (each call costs ~1-2 s of CLI start-up).
rabbitmq_tls_users() {
  tls_enabled || return 0
  local users
  users=$(rabbitmq_run rabbitmqctl -q list_users 2>>"$RMQ_DIR/startup.log") || fail "rabbitmqctl list_users failed" || return 1
  if ! grep -q "^$TLS_NOPERM_USER\b" <<<"$users"; then
    {
      rabbitmq_run rabbitmqctl -q add_vhost "$TLS_VHOST" || true
      rabbitmq_run rabbitmqctl -q add_user "$TLS_USER" "$TLS_PASSWORD" &&
        rabbitmq_run rabbitmqctl -q set_permissions -p "$TLS_VHOST" "$TLS_USER" '.*' '.*' '.*' &&
        rabbitmq_run rabbitmqctl -q add_user "$TLS_NOPERM_USER" "$TLS_PASSWORD"
    } >>"$RMQ_DIR/startup.log" 2>&1 || fail "creating the RabbitMQ TLS users failed" || return 1
  fi
  if ! grep -q "^$NOCONFIGURE_USER\b" <<<"$users"; then
    {
      rabbitmq_run rabbitmqctl -q add_user "$NOCONFIGURE_USER" "$TLS_PASSWORD" &&
        rabbitmq_run rabbitmqctl -q set_permissions -p "$TLS_VHOST" "$NOCONFIGURE_USER" '^$' '.*' '.*'
    } >>"$RMQ_DIR/startup.log" 2>&1 || fail "creating the RabbitMQ user without configure permission failed" || return 1
  fi
}

# redis-server arguments: a TLS port (client certificates optional) and two ACL users, given as
# SHA-256 hashes so the password is not on the command line. anymq-noperm may touch no key.
redis_tls_args() {
  tls_enabled || return 0
  local hash
  hash=$(printf '%s' "$TLS_PASSWORD" | sha256sum | cut -d' ' -f1)
  printf '%s\n' --tls-port "$REDIS_TLS_PORT" --tls-cert-file "$TLS_DIR/server.pem" --tls-key-file "$TLS_DIR/server.key" \
    --tls-ca-cert-file "$TLS_DIR/ca.pem" --tls-auth-clients optional \
    --user "$TLS_USER" on "#$hash" '~*' '&*' '+@all' \
    --user "$TLS_NOPERM_USER" on "#$hash" resetkeys resetchannels -@all +auth +hello +ping +client +select +info
}

# Kafka: a SASL_SSL listener (SCRAM-SHA-512; a client certificate is checked when one is sent) added
# to whatever listeners kafka_write_config wrote. An authorizer denies a SASL user without ACLs
# (anymq-noperm); the plain listeners' ANONYMOUS and the TLS user are super users.
kafka_tls_config() {
  tls_enabled || return 0
  local file="$KAFKA_DIR/server.properties"
  # PEM "keystore": the private key (PKCS#8) followed by the certificate.
  cat "$TLS_DIR/server.key" "$TLS_DIR/server.pem" >"$TLS_DIR/kafka-server-keystore.pem"
  chmod 600 "$TLS_DIR/kafka-server-keystore.pem"
  sed -i -e "s|^listeners=.*|&,SASL_SSL://127.0.0.1:$KAFKA_TLS_PORT|" \
    -e "s|^advertised.listeners=.*|&,SASL_SSL://127.0.0.1:$KAFKA_TLS_PORT|" \
    -e "s|^listener.security.protocol.map=.*|&,SASL_SSL:SASL_SSL|" "$file"
  cat >>"$file" <<PROPS
# TLS + SCRAM-SHA-512 (scripts/brokers.sh, tls section)
sasl.enabled.mechanisms=SCRAM-SHA-512
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PEM
ssl.keystore.location=$TLS_DIR/kafka-server-keystore.pem
ssl.truststore.type=PEM
ssl.truststore.location=$TLS_DIR/ca.pem
ssl.client.auth=requested
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:ANONYMOUS;User:$TLS_USER
PROPS
}

# SCRAM credentials live in the cluster's metadata: set once per data directory, through the plain
# listener (kafka.admin.ConfigCommand is in Kafka 3.9 and 4.x alike).
kafka_tls_users() {
  tls_enabled || return 0
  local marker="$(kafka_data)/.anymq-scram-users" user
  [ -f "$marker" ] && return 0
  for user in "$TLS_USER" "$TLS_NOPERM_USER"; do
    kafka_java kafka.admin.ConfigCommand --bootstrap-server "127.0.0.1:$KAFKA_PORT" --alter --entity-type users \
      --entity-name "$user" --add-config "SCRAM-SHA-512=[iterations=4096,password=$TLS_PASSWORD]" >>"$KAFKA_DIR/kafka.log" 2>&1 ||
      fail "kafka: adding the SCRAM user $user failed" || return 1
  done
  touch "$marker"
}

# PostgreSQL: TLS on its one port (clients ask for it), for `sslmode=verify-full`. The server key
# must belong to the user postgres runs as and be private, so the certificate and key are copied.
postgres_tls_files() {
  tls_enabled || return 0
  mkdir -p "$PG_DIR/tls"
  cp "$TLS_DIR/server.pem" "$TLS_DIR/server.key" "$TLS_DIR/ca.pem" "$PG_DIR/tls/"
  chmod 600 "$PG_DIR/tls/server.key"
  if is_root; then chown -R postgres: "$PG_DIR/tls"; fi
}

postgres_tls_options() {
  tls_enabled || return 0
  printf -- '-c ssl=on -c ssl_cert_file=%s -c ssl_key_file=%s -c ssl_ca_file=%s' \
    "$PG_DIR/tls/server.pem" "$PG_DIR/tls/server.key" "$PG_DIR/tls/ca.pem"
}

# Query string of the TLS URLs: the CA file, so the URL alone is enough to connect.
tls_url_query() { printf '?ca=%s' "$TLS_DIR/ca.pem"; }

tls_env() { # prefix quote
  tls_enabled || return 0
  local prefix="$1" q="$2"
  echo "${prefix}ANYMQ_TLS_DIR=$q$TLS_DIR$q"
  echo "${prefix}ANYMQ_TLS_PASSWORD=$q$TLS_PASSWORD$q"
  echo "${prefix}ANYMQ_RABBITMQ_TLS_URL=${q}amqps://$TLS_USER:$TLS_PASSWORD@localhost:$RABBITMQ_TLS_PORT/$TLS_VHOST$(tls_url_query)$q"
  echo "${prefix}ANYMQ_RABBITMQ_NOCONFIGURE_URL=${q}amqp://$NOCONFIGURE_USER:$TLS_PASSWORD@127.0.0.1:$RABBITMQ_PORT/$TLS_VHOST$q"
  echo "${prefix}ANYMQ_KAFKA_TLS_URL=${q}kafka://$TLS_USER:$TLS_PASSWORD@127.0.0.1:$KAFKA_TLS_PORT?saslMechanism=scram-sha-512&ca=$TLS_DIR/ca.pem$q"
  echo "${prefix}ANYMQ_POSTGRES_TLS_URL=${q}postgres://anymq:anymq@localhost:$POSTGRES_PORT/anymq?sslmode=verify-full&sslrootcert=$TLS_DIR/ca.pem$q"
  echo "${prefix}ANYMQ_SQS_TLS_URL=${q}sqs://us-east-1?endpoint=https://localhost:$SQS_TLS_PORT&ca=$TLS_DIR/ca.pem$q"
  echo "${prefix}ANYMQ_REDIS_TLS_URL=${q}rediss://$TLS_USER:$TLS_PASSWORD@localhost:$REDIS_TLS_PORT$(tls_url_query)$q"
}

# ----------------------------------------------------------------------------------------------
# PostgreSQL: a cluster of the project's own (not the system's `main` cluster)
# ----------------------------------------------------------------------------------------------
PG_BIN=""
PG_DIR="$BROKERS_DIR/postgres"

pg_find_bin() {
  [ -n "$PG_BIN" ] && return 0
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$d" ] && [ -x "$d/initdb" ] || fail "PostgreSQL server binaries not found under /usr/lib/postgresql" || return 1
  PG_BIN="$d"
}

# postgres refuses to run as root: as root, run it as the `postgres` user.
pg_as() { # cmd args...
  if is_root; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# The data dir must be reachable by the postgres user and the socket path short (<108 bytes);
# if the checkout is somewhere else (e.g. under /root), keep the cluster in /var/tmp instead.
pg_choose_dir() {
  local alt
  alt="/var/tmp/anymq-postgres-$(printf '%s' "$BROKERS_DIR" | md5sum | cut -c1-10)"
  if [ -d "$alt/data" ]; then
    PG_DIR="$alt"
    return 0
  fi
  if [ -d "$PG_DIR/data" ]; then return 0; fi
  mkdir -p "$PG_DIR"
  if is_root; then chown postgres: "$PG_DIR"; fi
  if [ ${#PG_DIR} -gt 80 ] || ! pg_as test -w "$PG_DIR" 2>/dev/null; then
    rmdir "$PG_DIR" 2>/dev/null || true
    PG_DIR="$alt"
    mkdir -p "$PG_DIR"
    if is_root; then chown postgres: "$PG_DIR"; fi
    mkdir -p "$BROKERS_DIR"
    echo "$PG_DIR" >"$BROKERS_DIR/postgres.location"
  fi
}
# Where a previous run put it (for status/down without initialising anything).
if [ -s "$BROKERS_DIR/postgres.location" ]; then PG_DIR="$(cat "$BROKERS_DIR/postgres.location")"; fi

postgres_logfiles() { echo "$PG_DIR/postgres.log"; }
postgres_ours() { pid_alive "$PG_DIR/data/postmaster.pid" "$PG_DIR/data"; }
postgres_pids() {
  postgres_ours || return 0
  local pm
  pm=$(head -1 "$PG_DIR/data/postmaster.pid")
  echo "$pm"
  pgrep -P "$pm" 2>/dev/null || true
}

postgres_ready() {
  pg_isready -q -h 127.0.0.1 -p "$POSTGRES_PORT" -d anymq -U anymq || return 1
  [ "$(PGPASSWORD=anymq PGCONNECT_TIMEOUT=3 psql -X -h 127.0.0.1 -p "$POSTGRES_PORT" -U anymq -d anymq -Atqc 'select 1' 2>/dev/null)" = "1" ]
}

pg_admin() { # sql
  pg_as "$PG_BIN/psql" -X -v ON_ERROR_STOP=1 -h "$PG_DIR/run" -p "$POSTGRES_PORT" -U postgres -d postgres -Atqc "$1"
}

postgres_init() {
  [ -f "$PG_DIR/data/PG_VERSION" ] && return 0
  say "postgres: initdb $PG_DIR/data"
  rm -rf "$PG_DIR/data"
  pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >>"$PG_DIR/postgres.log" 2>&1 ||
    fail "initdb failed" || return 1
  cat >>"$PG_DIR/data/postgresql.conf" <<EOF

# added by scripts/brokers.sh
listen_addresses = '127.0.0.1'
port = $POSTGRES_PORT
unix_socket_directories = '$PG_DIR/run'
max_connections = 200
EOF
}

postgres_start() {
  pg_find_bin || return 1
  pg_choose_dir
  mkdir -p "$PG_DIR/run"
  touch "$PG_DIR/postgres.log"
  if is_root; then chown postgres: "$PG_DIR" "$PG_DIR/run" "$PG_DIR/postgres.log"; fi
  postgres_init || return 1
  postgres_tls_files || return 1
  # The port on every start: a data dir first made with another ANYMQ_POSTGRES_PORT must follow this one.
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t "$READY_TIMEOUT" start -o "-p $POSTGRES_PORT $(postgres_tls_options)" \
    >>"$PG_DIR/postgres.log" 2>&1 || fail "pg_ctl start failed" || return 1
  # role + database, idempotently
  if [ "$(pg_admin "select 1 from pg_roles where rolname = 'anymq'")" != "1" ]; then
    pg_admin "create role anymq login password 'anymq'" >>"$PG_DIR/postgres.log" 2>&1 || fail "create role anymq failed" || return 1
  fi
  if [ "$(pg_admin "select 1 from pg_database where datname = 'anymq'")" != "1" ]; then
    pg_admin "create database anymq owner anymq" >>"$PG_DIR/postgres.log" 2>&1 || fail "create database anymq failed" || return 1
  fi
  wait_ready "" "pg_isready + select 1 as anymq on 127.0.0.1:$POSTGRES_PORT" postgres_ready
}

postgres_stop() {
  postgres_ours || return 0
  pg_find_bin || return 1
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >>"$PG_DIR/postgres.log" 2>&1 ||
    fail "pg_ctl stop failed"
}

# ----------------------------------------------------------------------------------------------
# NATS with JetStream (file store under the data dir: streams survive a restart)
# ----------------------------------------------------------------------------------------------
NATS_DIR="$BROKERS_DIR/nats"
NATS_MARKER="nats-server -a 127.0.0.1 -p $NATS_PORT"

nats_logfiles() { echo "$NATS_DIR/nats.log"; }
nats_ours() { pid_alive "$NATS_DIR/nats.pid" "$NATS_MARKER"; }
nats_pids() { if nats_ours; then cat "$NATS_DIR/nats.pid"; fi; }

# /healthz answers ok only once JetStream has recovered its streams.
nats_ready() { curl -fsS -m 2 "http://127.0.0.1:$NATS_MONITOR_PORT/healthz" | grep -q '"ok"'; }

nats_start() {
  command -v nats-server >/dev/null || fail "nats-server is not installed" || return 1
  mkdir -p "$NATS_DIR/store"
  rm -f "$NATS_DIR/nats.pid"
  echo "==== $(date -Is) starting nats-server ====" >>"$NATS_DIR/nats.log"
  spawn "$NATS_DIR/nats.pid" "$NATS_DIR/nats.log" \
    nats-server -a 127.0.0.1 -p "$NATS_PORT" -m "$NATS_MONITOR_PORT" -js -sd "$NATS_DIR/store" -n anymq-test || return 1
  wait_ready nats_ours "NATS /healthz on http://127.0.0.1:$NATS_MONITOR_PORT" nats_ready
}

# SIGTERM makes nats-server flush its store and exit (lame duck is SIGUSR2, not needed here).
nats_stop() { stop_pidfile "$NATS_DIR/nats.pid" "$NATS_MARKER" 30; }

# ----------------------------------------------------------------------------------------------
# Google Cloud Pub/Sub: pstest (the Go client's fake server) wrapped by scripts/pubsub-emulator,
# built once per source version into the cache. State lives in memory: a restart loses it.
# ----------------------------------------------------------------------------------------------
PUBSUB_DIR="$BROKERS_DIR/pubsub"
PUBSUB_SRC="$SCRIPT_DIR/pubsub-emulator"
PUBSUB_MARKER="-port $PUBSUB_PORT"

pubsub_binary() {
  local digest
  digest=$(cat "$PUBSUB_SRC/go.mod" "$PUBSUB_SRC/go.sum" "$PUBSUB_SRC/main.go" | sha256sum | cut -c1-12)
  echo "$CACHE_DIR/pubsub-emulator/pubsub-emulator-$digest"
}
pubsub_logfiles() { echo "$PUBSUB_DIR/pubsub.log"; }
pubsub_ours() { pid_alive "$PUBSUB_DIR/pubsub.pid" "$PUBSUB_MARKER"; }
pubsub_pids() { if pubsub_ours; then cat "$PUBSUB_DIR/pubsub.pid"; fi; }
# pstest listens only once it is fully set up, so an open port is a ready server.
pubsub_ready() { port_open "$PUBSUB_PORT"; }

pubsub_install() {
  local binary
  binary=$(pubsub_binary)
  [ -x "$binary" ] && return 0
  command -v go >/dev/null || fail "pubsub needs Go (the version in $PUBSUB_SRC/go.mod or newer: https://go.dev/dl) to build pstest" || return 1
  say "pubsub: building $binary (Go module proxy: cloud.google.com/go/pubsub/v2/pstest)"
  mkdir -p "$(dirname "$binary")"
  (cd "$PUBSUB_SRC" && go build -trimpath -o "$binary.tmp" .) >>"$INSTALL_LOG" 2>&1 || fail "go build in $PUBSUB_SRC failed" || return 1
  mv "$binary.tmp" "$binary"
}

pubsub_start() {
  mkdir -p "$PUBSUB_DIR"
  rm -f "$PUBSUB_DIR/pubsub.pid"
  echo "==== $(date -Is) starting pstest ====" >>"$PUBSUB_DIR/pubsub.log"
  spawn "$PUBSUB_DIR/pubsub.pid" "$PUBSUB_DIR/pubsub.log" "$(pubsub_binary)" -port "$PUBSUB_PORT" || return 1
  wait_ready pubsub_ours "pstest on 127.0.0.1:$PUBSUB_PORT" pubsub_ready
}

pubsub_stop() { stop_pidfile "$PUBSUB_DIR/pubsub.pid" "$PUBSUB_MARKER" 15; }

# ----------------------------------------------------------------------------------------------
# generic per-broker operations
# ----------------------------------------------------------------------------------------------
broker_port() {
  case "$1" in
  rabbitmq) echo "$RABBITMQ_PORT" ;; kafka) echo "$KAFKA_PORT" ;; sqs) echo "$MOTO_PORT" ;;
  redis) echo "$REDIS_PORT" ;; postgres) echo "$POSTGRES_PORT" ;;
  nats) echo "$NATS_PORT" ;; pubsub) echo "$PUBSUB_PORT" ;; elasticmq) echo "$ELASTICMQ_PORT" ;;
  esac
}

broker_url() {
  case "$1" in
  rabbitmq) echo "amqp://guest:guest@127.0.0.1:$RABBITMQ_PORT" ;;
  kafka) echo "kafka://127.0.0.1:$KAFKA_PORT" ;;
  sqs) echo "sqs://us-east-1?endpoint=http://127.0.0.1:$MOTO_PORT" ;;
  redis) echo "redis://127.0.0.1:$REDIS_PORT" ;;
  postgres) echo "postgres://anymq:anymq@127.0.0.1:$POSTGRES_PORT/anymq" ;;
  nats) echo "nats://127.0.0.1:$NATS_PORT" ;;
  pubsub) echo "gcp-pubsub://anymq-test?endpoint=127.0.0.1:$PUBSUB_PORT" ;;
  elasticmq) echo "sqs://us-east-1?endpoint=http://127.0.0.1:$ELASTICMQ_PORT" ;;
  esac
}

# Make sure what `b` needs is installed (Debian packages are installed in one go by cmd_up).
# The cache is shared by every checkout on the machine: installs into it take a lock of their own.
broker_install() {
  case "$1" in
  kafka | sqs | pubsub | elasticmq) ;;
  *) return 0 ;;
  esac
  local rc=0
  mkdir -p "$CACHE_DIR"
  exec 8>"$CACHE_DIR/.install-$1.lock"
  flock -w 900 8 || { exec 8>&-; fail "another install into $CACHE_DIR is taking too long"; return 1; }
  case "$1" in
  kafka) kafka_install || rc=1 ;;
  sqs) sqs_install || rc=1 ;;
  pubsub) pubsub_install || rc=1 ;;
  elasticmq) elasticmq_install || rc=1 ;;
  esac
  exec 8>&-
  return $rc
}

# Start one broker unless it is already running. Prints one line with the time it took.
broker_up() { # broker
  local b="$1" t0 port owner
  t0=$(now)
  FAIL_REASON="" FAIL_LOGS=""
  if "${b}_ours" && "${b}_ready" 2>/dev/null; then
    echo "$b: already running ($(broker_url "$b")) — checked in $(since "$t0")"
    return 0
  fi
  port=$(broker_port "$b")
  if ! "${b}_ours" && port_open "$port"; then
    if "${b}_ready" 2>/dev/null; then
      owner=$(port_owner "$port")
      say "WARNING: $b on 127.0.0.1:$port is answering but was not started from $BROKERS_DIR (${owner:-unknown process}); using it as it is"
      echo "$b: already running, not ours ($(broker_url "$b"))"
      return 0
    fi
    fail "port 127.0.0.1:$port is taken by ${owner:-$(port_owner "$port")}, which does not answer as $b (stop it, e.g. the system's service)"
    FAIL_LOGS=none
    return 1
  fi
  # A stale or half-started instance of ours: stop it before starting again.
  if "${b}_ours"; then "${b}_stop" || true; fi
  broker_install "$b" || { FAIL_LOGS=install; return 1; }
  "${b}_start" || return 1
  echo "$b: started and ready in $(since "$t0") ($(broker_url "$b"))"
}

broker_down() { # broker
  local b="$1" t0
  t0=$(now)
  FAIL_REASON=""
  if ! "${b}_ours"; then
    echo "$b: not running (of ours)"
    return 0
  fi
  "${b}_stop" || { [ -n "$FAIL_REASON" ] || fail "could not stop"; return 1; }
  if "${b}_ours"; then fail "still running after stop"; return 1; fi
  echo "$b: stopped in $(since "$t0")"
}

broker_stop() { "${1}_stop"; }

# SIGKILL the processes of ours (the pid file's), then wait until they are gone.
broker_kill() { # broker
  local pids pid
  pids=$("${1}_pids" | tr '\n' ' ')
  for pid in $pids; do kill -KILL "$pid" 2>/dev/null || true; done
  for pid in $pids; do while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done; done
}

normalize_brokers() { # names... -> canonical names (all if none)
  local n out=()
  [ $# -gt 0 ] || set -- "${ALL_BROKERS[@]}"
  for n in "$@"; do
    case "$n" in
    rabbitmq | rabbit | amqp) out+=(rabbitmq) ;;
    kafka) out+=(kafka) ;;
    sqs | sns | moto) out+=(sqs) ;;
    redis) out+=(redis) ;;
    postgres | postgresql | pg) out+=(postgres) ;;
    nats | jetstream) out+=(nats) ;;
    pubsub | gcp-pubsub | pstest) out+=(pubsub) ;;
    elasticmq) out+=(elasticmq) ;;
    all) out+=("${ALL_BROKERS[@]}") ;;
    *)
      say "unknown broker '$n' (known: ${ALL_BROKERS[*]} ${OPTIONAL_BROKERS[*]})"
      exit 2
      ;;
    esac
  done
  # de-duplicate, keep order
  printf '%s\n' "${out[@]}" | awk '!seen[$0]++'
}

take_lock() {
  mkdir -p "$BROKERS_DIR"
  exec 9>"$BROKERS_DIR/.lock"
  if ! flock -n 9; then
    say "waiting for another brokers.sh (up/down/restart) in $BROKERS_DIR to finish"
    flock -w 900 9 || { say "another brokers.sh is still busy in $BROKERS_DIR after 900s"; exit 1; }
  fi
}

# ----------------------------------------------------------------------------------------------
# commands
# ----------------------------------------------------------------------------------------------
cmd_up() {
  local brokers=() b t0 failed=() pkgs
  local list
  list=$(normalize_brokers "$@") || exit 2
  mapfile -t brokers <<<"$list"
  take_lock
  t0=$(now)
  : >>"$INSTALL_LOG"
  pkgs=$(debian_packages_for "${brokers[@]}")
  if [ -n "$pkgs" ]; then
    local t1
    t1=$(now)
    # shellcheck disable=SC2086
    if [ -n "$(apt_missing $pkgs)" ]; then
      # shellcheck disable=SC2086
      apt_install $pkgs || {
        echo "brokers: Debian package install FAILED: $FAIL_REASON" >&2
        tail -n 40 "$INSTALL_LOG" >&2
        exit 1
      }
      echo "debian packages: installed in $(since "$t1")"
    fi
  fi
  tls_ensure_ca || { echo "brokers: TLS certificate authority FAILED: $FAIL_REASON" >&2; exit 1; }
  # The brokers start in parallel (installs included); each one's report is printed in order
  # once it is done. ANYMQ_BROKERS_PARALLEL=0 starts them one after the other.
  # 9>&-: the brokers must not inherit the lock's file descriptor (they would hold the lock).
  local out i pids=()
  out=$(mktemp -d)
  for i in "${!brokers[@]}"; do
    b="${brokers[$i]}"
    if [ "${ANYMQ_BROKERS_PARALLEL:-1}" = 0 ]; then
      (broker_up "$b" || { fail_broker "$b"; exit 1; }) 9>&- || failed+=("$b")
    else
      (broker_up "$b" || { fail_broker "$b"; exit 1; }) >"$out/$b.log" 2>&1 9>&- &
      pids[i]=$!
    fi
  done
  for i in "${!pids[@]}"; do
    b="${brokers[$i]}"
    if ! wait "${pids[$i]}"; then failed+=("$b"); fi
    cat "$out/$b.log"
  done
  rm -rf "$out"
  echo "up: total $(since "$t0")"
  if [ ${#failed[@]} -gt 0 ]; then
    echo "brokers: FAILED: ${failed[*]}" >&2
    exit 1
  fi
}

cmd_down() {
  local brokers=() b failed=() pids left=""
  local list
  list=$(normalize_brokers "$@") || exit 2
  mapfile -t brokers <<<"$list"
  # `down` without names also stops the opt-in brokers that run.
  if [ $# -eq 0 ]; then
    for b in "${OPTIONAL_BROKERS[@]}"; do "${b}_ours" && brokers+=("$b"); done
  fi
  take_lock
  for b in "${brokers[@]}"; do
    if ! broker_down "$b" 9>&-; then
      fail_broker "$b"
      failed+=("$b")
    fi
  done
  [[ " ${brokers[*]} " == *" rabbitmq "* ]] && epmd_cleanup
  for b in "${brokers[@]}"; do
    pids=$("${b}_pids" | tr '\n' ' ')
    [ -z "${pids// /}" ] || left+=" $b(pids $pids)"
  done
  if [ -n "$left" ]; then
    echo "brokers: still running after down:$left" >&2
    exit 1
  fi
  if [ ${#failed[@]} -gt 0 ]; then
    echo "brokers: FAILED to stop: ${failed[*]}" >&2
    exit 1
  fi
}

# Stop and start again, keeping the data; returns once the broker is ready again.
# --kill: SIGKILL the broker's process instead of stopping it politely (a crash, not a shutdown).
cmd_restart() {
  local brokers=() b t0 failed=() stop=stop
  if [ "${1:-}" = --kill ]; then
    stop=kill
    shift
  fi
  [ $# -gt 0 ] || { say "usage: brokers.sh restart [--kill] <broker...>"; exit 2; }
  local list
  list=$(normalize_brokers "$@") || exit 2
  mapfile -t brokers <<<"$list"
  take_lock
  for b in "${brokers[@]}"; do
    t0=$(now)
    FAIL_REASON="" FAIL_LOGS=""
    if ! "${b}_ours" && port_open "$(broker_port "$b")"; then
      fail "the $b on port $(broker_port "$b") was not started from $BROKERS_DIR: cannot restart it"
      FAIL_LOGS=none
      fail_broker "$b"
      failed+=("$b")
      continue
    fi
    if [ "$b" = sqs ]; then say "note: moto keeps its state in memory; after a restart SQS/SNS start empty"; fi
    if [ "$b" = pubsub ]; then say "note: pstest keeps its state in memory; after a restart Pub/Sub starts empty"; fi
    if { { "broker_$stop" "$b" || fail "could not stop $b"; } && broker_up "$b" >/dev/null; } 9>&-; then
      echo "$b: restarted in $(since "$t0")"
    else
      fail_broker "$b"
      failed+=("$b")
    fi
  done
  if [ ${#failed[@]} -gt 0 ]; then exit 1; fi
}

cmd_status() {
  local brokers=() b bad=0 pids how
  local list
  list=$(normalize_brokers "$@") || exit 2
  mapfile -t brokers <<<"$list"
  for b in "${brokers[@]}"; do
    pids=$("${b}_pids" | head -1)
    if "${b}_ready" 2>/dev/null; then
      how="pid ${pids:-?}"
      [ -n "$pids" ] || how="not started from $BROKERS_DIR"
      printf '%-9s healthy   %-52s %s\n' "$b" "$(broker_url "$b")" "$how"
    else
      printf '%-9s DOWN      %-52s %s\n' "$b" "$(broker_url "$b")" "${pids:+process $pids alive but not answering}"
      bad=1
    fi
  done
  return $bad
}

# Default: `export NAME='value'` lines, so `eval "$(scripts/brokers.sh env)"` exports them.
# --plain: `NAME=value` lines (dotenv files, $GITHUB_ENV, `set -a; . file`).
cmd_env() {
  local prefix="export " q="'"
  case "${1:-}" in
  --plain | -p) prefix="" q="" ;;
  --export | -e | "") ;;
  *)
    say "usage: brokers.sh env [--plain]"
    exit 2
    ;;
  esac
  local b name
  for b in "${ALL_BROKERS[@]}" "${OPTIONAL_BROKERS[@]}"; do
    # An opt-in broker's URL only while it runs: test files skip it exactly when it is not there.
    if [[ " ${OPTIONAL_BROKERS[*]} " == *" $b "* ]] && ! "${b}_ours"; then continue; fi
    name="ANYMQ_$(echo "$b" | tr '[:lower:]' '[:upper:]')_URL"
    echo "$prefix$name=$q$(broker_url "$b")$q"
  done
  tls_env "$prefix" "$q"
  echo "${prefix}ANYMQ_BROKERS_SCRIPT=$q$SCRIPT_PATH$q"
  echo "${prefix}ANYMQ_AWS_CLI=$q$VENV_DIR/bin/aws$q"
  # Kinesis and DynamoDB (its lease tables) are served by the same moto server as SQS.
  echo "${prefix}ANYMQ_KINESIS_URL=${q}kinesis://us-east-1?endpoint=http://127.0.0.1:$MOTO_PORT$q"
  echo "${prefix}AWS_ACCESS_KEY_ID=${q}test$q"
  echo "${prefix}AWS_SECRET_ACCESS_KEY=${q}test$q"
  echo "${prefix}AWS_REGION=${q}us-east-1$q"
  echo "${prefix}AWS_DEFAULT_REGION=${q}us-east-1$q"
}

cmd_logs() {
  local brokers=() b f
  local list
  list=$(normalize_brokers "$@") || exit 2
  mapfile -t brokers <<<"$list"
  for b in "${brokers[@]}"; do
    for f in $("${b}_logfiles"); do
      [ -f "$f" ] && { echo "---- $f"; tail -n 30 "$f"; }
    done
  done
}

usage() {
  cat <<EOF
usage: scripts/brokers.sh <command> [broker...]

brokers: ${ALL_BROKERS[*]}   (default: all; aliases: sns/moto=sqs, pg=postgres, jetstream=nats, pstest=pubsub)
         ${OPTIONAL_BROKERS[*]}   (only when named: SQS kept on disk, restartable without loss)

  up [broker...]       install what is missing, start, wait until really ready (idempotent)
  down [broker...]     stop them (data is kept in \$ANYMQ_BROKERS_DIR)
  restart <broker...>  stop and start again keeping the data (moto, pstest: state is in memory, lost)
  restart --kill <broker...>  the same after a SIGKILL instead of a polite stop (a crash)
  status [broker...]   one line per broker; exit 1 if any is not healthy
  env [--plain]        \`export NAME='value'\` lines for eval (--plain: NAME=value, dotenv style)
  logs [broker...]     tail of each broker's log

data dir:  $BROKERS_DIR   (ANYMQ_BROKERS_DIR)
cache dir: $CACHE_DIR   (ANYMQ_CACHE_DIR: Kafka and ElasticMQ jars, Python venv with moto + awscli, pstest binary)
EOF
}

main() {
  local cmd="${1:-help}"
  [ $# -gt 0 ] && shift
  case "$cmd" in
  up | start) cmd_up "$@" ;;
  down | stop) cmd_down "$@" ;;
  restart) cmd_restart "$@" ;;
  status) cmd_status "$@" ;;
  env) cmd_env "$@" ;;
  logs) cmd_logs "$@" ;;
  help | -h | --help) usage ;;
  *)
    usage >&2
    exit 2
    ;;
  esac
}

main "$@"
