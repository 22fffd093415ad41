#!/usr/bin/env bash
# scripts/pnpm-binary.sh <version> — prints a bin directory holding that exact pnpm.
#
# The first call installs pnpm from the npm registry into ${ANYMQ_CACHE_DIR:-$HOME/.cache/anymq}
# (outside git); later calls print the cached path at once. CI calls pnpm a dozen times: through
# `npx -y pnpm@…` each call asks the registry again (~3 s here, ~70 s where Node cannot verify the
# registry's certificate before npx falls back to its cache). The README's own command stays npx.
# Usage: PATH="$(scripts/pnpm-binary.sh 10.34.8):$PATH"
set -euo pipefail

version="${1:?usage: scripts/pnpm-binary.sh <version, e.g. 10.34.8>}"
target="$(bash "$(dirname "$0")/cached-npm-package.sh" "pnpm-$version" "pnpm@$version" node_modules/.bin/pnpm)"
echo "$target/node_modules/.bin"
