#!/usr/bin/env bash
# scripts/cluster-conformance.sh [kafka|rabbitmq|redis...] [-- vitest args]  (`pnpm conformance:cluster`)
#
# Runs an adapter's conformance file against the 3-node cluster of scripts/cluster.sh instead of
# the single broker of scripts/brokers.sh: the adapter gets the cluster's multi-host URL, and the
# recovery group's restartBroker hook calls `cluster.sh restart <cluster>` (SIGKILL of node 1, or
# of the Redis primary, then start it again), so "nothing confirmed is lost across a restart" is
# proved across a node loss. Brings each cluster up (idempotent) and leaves it up; `cluster.sh
# down` stops it. Exit code: the first failing run's. A killed Kafka node takes 60-100 s to serve again
# on a busy 2-core machine, so a recovery case outlasts vitest's usual 120 s: the timeout is 600 s.
set -euo pipefail

# shellcheck source=scripts/cluster/cli.sh
. "$(dirname "${BASH_SOURCE[0]}")/cluster/cli.sh" # REPO_DIR, cd there, clusters=(names); "$@" = vitest arguments
[ ${#clusters[@]} -gt 0 ] || clusters=(kafka rabbitmq redis)

rc=0
for cluster in "${clusters[@]}"; do
  bash scripts/cluster.sh up "$cluster"
  eval "$(bash scripts/cluster.sh env "$cluster")"
  case "$cluster" in
  kafka) file=packages/adapter-kafka/test/conformance.test.ts vars=(ANYMQ_KAFKA_URL="$ANYMQ_CLUSTER_KAFKA_URL") ;;
  # Without the cluster URL's ?queueType=quorum: the file runs classic queues, then quorum queues.
  rabbitmq) file=packages/adapter-rabbitmq/test/conformance.test.ts vars=(ANYMQ_RABBITMQ_URL="${ANYMQ_CLUSTER_RABBITMQ_URL%%\?*}") ;;
  redis) file=packages/adapter-redis/test/conformance.test.ts vars=(ANYMQ_REDIS_URL="$ANYMQ_CLUSTER_REDIS_URL") ;;
  *) echo "cluster-conformance: unknown cluster '$cluster' (kafka, rabbitmq, redis)" >&2 && exit 2 ;;
  esac
  echo "cluster-conformance: $file against the $cluster cluster" >&2
  env "${vars[@]}" ANYMQ_BROKERS_SCRIPT="$REPO_DIR/scripts/cluster.sh" ANYMQ_REQUIRE_BROKERS=true \
    node_modules/.bin/vitest run --testTimeout=600000 "$file" "$@" || {
    status=$?
    [ $rc -ne 0 ] || rc=$status
  }
done
exit $rc
