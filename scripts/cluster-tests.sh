#!/usr/bin/env bash
# scripts/cluster-tests.sh [kafka|rabbitmq|redis...] [-- vitest args]  (`pnpm test:cluster`)
#
# Runs the test files that need a 3-node cluster of scripts/cluster.sh: those that name an
# ANYMQ_CLUSTER_<BROKER>_… variable (scripts/test-lanes.mjs leaves them out of `pnpm test`).
# Brings each named cluster up (idempotent), exports `cluster.sh env`, and runs its files with
# ANYMQ_REQUIRE_BROKERS=true, so a missing URL fails them instead of skipping. Leaves the cluster
# up; `cluster.sh down` stops it. Without names: every cluster that has such files. Exit code: the
# first failing run's.
set -euo pipefail

# shellcheck source=scripts/cluster/cli.sh
. "$(dirname "${BASH_SOURCE[0]}")/cluster/cli.sh" # REPO_DIR, cd there, clusters=(names); "$@" = vitest arguments

files_for() { # cluster -> its test files, one a line
  local name
  name=$(echo "$1" | tr '[:lower:]' '[:upper:]')
  grep -rlE --include='*.test.ts' "ANYMQ_CLUSTER_${name}_" packages/*/test examples/*/test test 2>/dev/null | sort || true
}

if [ ${#clusters[@]} -eq 0 ]; then
  for cluster in kafka rabbitmq redis; do [ -z "$(files_for "$cluster")" ] || clusters+=("$cluster"); done
fi

rc=0
for cluster in "${clusters[@]}"; do
  case "$cluster" in
  kafka | rabbitmq | redis) ;;
  *) echo "cluster-tests: unknown cluster '$cluster' (kafka, rabbitmq, redis)" >&2 && exit 2 ;;
  esac
  mapfile -t files < <(files_for "$cluster")
  if [ ${#files[@]} -eq 0 ]; then
    echo "cluster-tests: no test file names ANYMQ_CLUSTER_$(echo "$cluster" | tr '[:lower:]' '[:upper:]')_; nothing to run" >&2
    continue
  fi
  bash scripts/cluster.sh up "$cluster"
  set -a
  eval "$(bash scripts/cluster.sh env "$cluster")"
  set +a
  echo "cluster-tests: ${files[*]} against the $cluster cluster" >&2
  ANYMQ_REQUIRE_BROKERS=true node_modules/.bin/vitest run "${files[@]}" "$@" || {
    status=$?
    [ $rc -ne 0 ] || rc=$status
  }
done
exit $rc
