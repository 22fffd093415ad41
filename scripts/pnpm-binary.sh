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
cache_dir="${ANYMQ_CACHE_DIR:-$HOME/.cache/anymq}"
target="$cache_dir/pnpm-$version"
bin_dir="$target/node_modules/.bin"

if [ ! -x "$bin_dir/pnpm" ]; then
  mkdir -p "$cache_dir"
  # Checkouts on one machine share the cache: one install at a time.
  exec 8>"$cache_dir/.install-pnpm-$version.lock"
  flock -w 600 8 || { echo "pnpm-binary.sh: another install of pnpm $version is taking too long" >&2; exit 1; }
  if [ ! -x "$bin_dir/pnpm" ]; then
    # Installed into a scratch folder and renamed, so a cancelled download never looks installed.
    scratch="$(mktemp -d "$cache_dir/.pnpm-$version.XXXXXX")"
    npm install --prefix "$scratch" --no-save --no-audit --no-fund --no-package-lock --loglevel=error "pnpm@$version" >&2
    rm -rf "$target"
    mv "$scratch" "$target"
  fi
fi
echo "$bin_dir"
