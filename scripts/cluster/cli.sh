# shellcheck shell=bash
# Sourced by scripts/cluster-conformance.sh and scripts/cluster-tests.sh, at their top level: their
# shared command line `[kafka|rabbitmq|redis...] [-- vitest args]`. Goes to the repository root,
# sets `clusters` to the names given (maybe none) and leaves only the vitest arguments (those after
# `--`, e.g. `-- -t recovery`) in the caller's "$@".
REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$REPO_DIR"
clusters=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
  clusters+=("$1")
  shift
done
[ "${1:-}" != -- ] || shift
