# shellcheck shell=bash
# Sourced by scripts/brokers.sh (the CLI and its usage are there): generic per-broker operations: port, URL, install, up, down, kill, names, lock.

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
  redis) [ -n "$REDIS_VERSION" ] || return 0 ;;
  nats) [ "$NATS_VERSION" != debian ] || return 0 ;;
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
  redis) redis_install || rc=1 ;;
  nats) nats_install || rc=1 ;;
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
