#!/usr/bin/env bash
# scripts/cluster.sh — broker clusters on 127.0.0.1, without Docker, for the chaos suite.
#
#   kafka     Apache Kafka 4.x KRaft, 3 combined broker+controller nodes, RF 3, min.insync 2,
#             unclean leader election off                         k1 k2 k3
#   rabbitmq  RabbitMQ, 3 clustered nodes (quorum queues)         r1 r2 r3
#   redis     Redis primary + 2 replicas (AOF fsync always) + 3 Sentinels (master name anymq)
#                                                                 s1 s2 s3 (data), q1 q2 q3 (sentinels)
#
# Usage: scripts/cluster.sh up|down|status|env [kafka|rabbitmq|redis...]
#        scripts/cluster.sh kill <node>     SIGKILL one node (by its pid file, nothing else)
#        scripts/cluster.sh start <node>    start one node again (idempotent)
#        scripts/cluster.sh pid <node>      print a running node's pid
#        scripts/cluster.sh restart <cluster>  kill and start one node (redis: the primary; else node 1)
#        scripts/cluster.sh leader kafka <topic> | rabbitmq <queue> | redis
#                                           the node leading that traffic (partition 0, quorum leader, primary)
#
# Ports, all on 127.0.0.1, from ANYMQ_CLUSTER_PORT_BASE (B, default 26000; every port is in B..B+700):
#   kafka B+101..103 (controllers B+111..113, a second client listener B+121..123 advertised at
#   +300 for the chaos proxy); rabbitmq B+201..203 (Erlang distribution B+211..213); redis
#   B+301..303; sentinels B+311..313. The chaos proxies listen at +300 of the port they front.
#   The default keeps all of them below Linux's ephemeral range (32768-60999): a port in that range
#   can be held by any outgoing connection on the host, and a node that cannot bind it dies.
# Data, logs and pid files: ${ANYMQ_CLUSTER_DIR:-<repo>/.brokers/cluster}   (gitignored)
# Kafka jars: ${ANYMQ_CACHE_DIR:-$HOME/.cache/anymq}/kafka-cluster-<version>   (outside git)
#
# The Debian packages (rabbitmq-server, redis-server, java, maven) come from scripts/brokers.sh.
set -euo pipefail

CLUSTER_SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$CLUSTER_SCRIPT_DIR/.." && pwd)"
CLUSTER_DIR="${ANYMQ_CLUSTER_DIR:-$REPO_DIR/.brokers/cluster}"
CACHE_DIR="${ANYMQ_CACHE_DIR:-$HOME/.cache/anymq}"
PORT_BASE="${ANYMQ_CLUSTER_PORT_BASE:-26000}"
READY_TIMEOUT="${ANYMQ_BROKERS_TIMEOUT:-120}"
ALL_CLUSTERS=(kafka rabbitmq redis)

say() { printf '%s\n' "cluster: $*" >&2; }
die() {
  say "$*"
  exit 1
}

# Is the process in PIDFILE alive and still ours (its command line contains MARKER)?
pid_alive() { # pidfile marker
  local pid
  [ -s "$1" ] || return 1
  pid="$(head -n 1 "$1" 2>/dev/null)" || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -F -- "$2" >/dev/null
}

# SIGTERM, wait, then SIGKILL — only the pid in the file, only when the marker matches.
stop_pidfile() { # pidfile marker secs
  local pidfile="$1" marker="$2" secs="${3:-30}" pid i
  pid_alive "$pidfile" "$marker" || { rm -f "$pidfile"; return 0; }
  pid="$(head -n 1 "$pidfile")"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 4; i++)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; return 0; }
    sleep 0.25
  done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$pidfile"
}

# The chaos kill: SIGKILL, no shutdown of any kind.
kill_pidfile() { # pidfile marker
  local pid
  pid_alive "$1" "$2" || { say "not running: $1"; return 0; }
  pid="$(head -n 1 "$1")"
  kill -KILL "$pid"
  while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  rm -f "$1"
}

spawn() { # pidfile logfile cmd...
  local pidfile="$1" logfile="$2" i
  shift 2
  nohup setsid bash -c 'echo $$ > "$0"; exec "$@"' "$pidfile" "$@" >>"$logfile" 2>&1 </dev/null &
  for ((i = 0; i < 200; i++)); do
    [ -s "$pidfile" ] && return 0
    sleep 0.05
  done
  die "could not start: $*"
}

wait_for() { # what check...
  local what="$1" deadline=$((SECONDS + READY_TIMEOUT))
  shift
  while ((SECONDS < deadline)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  die "$what: not ready after ${READY_TIMEOUT}s"
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# The Debian packages are scripts/brokers.sh's to install (`brokers.sh up <broker>` does it).
ensure_commands() { # broker command...
  local broker="$1" c
  shift
  for c in "$@"; do
    command -v "$c" >/dev/null || die "$c is missing: run scripts/brokers.sh up $broker once (it installs it)"
  done
}

# shellcheck source=cluster/kafka.sh
. "$CLUSTER_SCRIPT_DIR/cluster/kafka.sh"
# shellcheck source=cluster/rabbitmq.sh
. "$CLUSTER_SCRIPT_DIR/cluster/rabbitmq.sh"
# shellcheck source=cluster/redis.sh
. "$CLUSTER_SCRIPT_DIR/cluster/redis.sh"

# node name -> cluster
cluster_of() {
  case "$1" in
  k[1-3]) echo kafka ;; r[1-3]) echo rabbitmq ;; s[1-3] | q[1-3]) echo redis ;;
  *) die "unknown node '$1' (k1..k3, r1..r3, s1..s3, q1..q3)" ;;
  esac
}

clusters_of() { # names... -> the named clusters, or all
  if [ $# -eq 0 ]; then echo "${ALL_CLUSTERS[@]}"; return; fi
  for c in "$@"; do
    case "$c" in kafka | rabbitmq | redis) echo "$c" ;; *) die "unknown cluster '$c' (kafka, rabbitmq, redis)" ;; esac
  done
}

command="${1:-help}"
shift || true
mkdir -p "$CLUSTER_DIR"
case "$command" in
up) for c in $(clusters_of "$@"); do "${c}_cluster_up"; done ;;
down) for c in $(clusters_of "$@"); do "${c}_cluster_down"; done ;;
status) for c in $(clusters_of "$@"); do "${c}_cluster_status"; done ;;
env) for c in $(clusters_of "$@"); do "${c}_cluster_env"; done ;;
kill)
  [ $# -eq 1 ] || die "usage: cluster.sh kill <node>"
  "$(cluster_of "$1")_node_kill" "$1"
  ;;
start)
  [ $# -eq 1 ] || die "usage: cluster.sh start <node>"
  "$(cluster_of "$1")_node_start" "$1"
  ;;
restart)
  # What the conformance suite's restartBroker hook calls (ANYMQ_BROKERS_SCRIPT=scripts/cluster.sh):
  # one node killed and started again — Redis: the primary (a failover); Kafka and RabbitMQ: node 1.
  [ $# -eq 1 ] || die "usage: cluster.sh restart kafka|rabbitmq|redis"
  case "$(clusters_of "$1")" in
  redis) node="$(redis_primary)" || die "no redis primary known to the sentinels" ;;
  kafka) node=k1 ;;
  rabbitmq) node=r1 ;;
  esac
  "$(cluster_of "$node")_node_kill" "$node"
  "$(cluster_of "$node")_node_start" "$node"
  ;;
leader)
  [ $# -ge 1 ] || die "usage: cluster.sh leader kafka <topic> | rabbitmq <queue> | redis"
  c="$(clusters_of "$1")"
  shift
  "${c}_leader" "$@"
  ;;
pid)
  [ $# -eq 1 ] || die "usage: cluster.sh pid <node>"
  "$(cluster_of "$1")_node_pid" "$1"
  ;;
help | -h | --help) sed -n '2,25p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
*) die "unknown command '$command' (up, down, status, env, kill, start, pid, leader, restart)" ;;
esac
