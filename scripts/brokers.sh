#!/usr/bin/env bash
# scripts/brokers.sh — real message brokers on 127.0.0.1, without Docker.
#
# Installs (idempotently) and runs, as ordinary processes on loopback:
#   rabbitmq  RabbitMQ (Debian package rabbitmq-server)              amqp://127.0.0.1:5672
#   kafka     Apache Kafka 4.x, KRaft single node (jars from Maven Central) 127.0.0.1:9092
#             (ANYMQ_KAFKA_VERSION=3.9.2 runs 3.9 instead; each version keeps its own data dir)
#   sqs       moto server (PyPI, moto[sqs,sns] + flask) for SQS + SNS http://127.0.0.1:4566
#   redis     Redis (Debian package redis-server), AOF fsync=always   127.0.0.1:6379
#             (ANYMQ_REDIS_VERSION=6.2.14 ANYMQ_TLS=0 builds and runs 6.2 instead, from sources on PyPI)
#   postgres  PostgreSQL (Debian package postgresql), own cluster     127.0.0.1:5432
#   nats      NATS with JetStream 2.15 (built from the Go module proxy), file store  nats://127.0.0.1:4222
#             (ANYMQ_NATS_VERSION=debian runs Debian's nats-server 2.9.10 instead; each keeps its own store)
#   pubsub    Google Pub/Sub fake (pstest, built with Go from scripts/pubsub-emulator) 127.0.0.1:8085
#   elasticmq ElasticMQ, SQS kept on disk (jars from Maven Central; only when named)  http://127.0.0.1:9324
#
# Usage: scripts/brokers.sh up|down|status|restart|env|logs [broker...]   (see `help`)
#
# This file is the command line; the work is in scripts/brokers/ (one file per broker, plus config,
# helpers, installs, TLS, the per-broker operations and the commands; scripts/BROKERS.md lists them).
#
# Data, logs and pid files: ${ANYMQ_BROKERS_DIR:-<repo>/.brokers}   (gitignored)
# Downloads (Kafka jars, Python venv): ${ANYMQ_CACHE_DIR:-$HOME/.cache/anymq}  (outside git)
set -euo pipefail

SCRIPT_PATH="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
SCRIPT_DIR="$(dirname "$SCRIPT_PATH")"
REPO_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"

# One file per part under scripts/brokers/, sourced in this order (later parts use earlier ones):
# config, shared helpers, Debian installs, one file per broker, TLS, the generic per-broker
# operations and the commands.
for part in config common install rabbitmq kafka sqs elasticmq redis tls postgres nats pubsub operations commands; do
  # shellcheck source=/dev/null
  . "$SCRIPT_DIR/brokers/$part.sh"
done
unset part

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
