#!/usr/bin/env bash
# scripts/cached-npm-package.sh <folder> <package@version> [file that proves the install]
#
# Installs one package from the npm registry into ${ANYMQ_CACHE_DIR:-$HOME/.cache/anymq}/<folder>
# (outside git) unless it is there, and prints that folder. node-binary.sh and pnpm-binary.sh use it.
set -euo pipefail

folder="${1:?usage: scripts/cached-npm-package.sh <folder> <package@version> [file]}"
spec="${2:?usage: scripts/cached-npm-package.sh <folder> <package@version> [file]}"
proof="${3:-node_modules/${spec%@*}/package.json}"
cache_dir="${ANYMQ_CACHE_DIR:-$HOME/.cache/anymq}"
target="$cache_dir/$folder"

if [ ! -e "$target/$proof" ]; then
  mkdir -p "$cache_dir"
  # Checkouts on one machine share the cache: one install at a time.
  exec 8>"$cache_dir/.install-$folder.lock"
  flock -w 600 8 || { echo "cached-npm-package.sh: another install of $spec is taking too long" >&2; exit 1; }
  if [ ! -e "$target/$proof" ]; then
    # Installed into a scratch folder and renamed, so a cancelled download never looks installed.
    scratch="$(mktemp -d "$cache_dir/.$folder.XXXXXX")"
    npm install --prefix "$scratch" --no-save --no-audit --no-fund --no-package-lock --loglevel=error "$spec" >&2
    rm -rf "$target"
    mv "$scratch" "$target"
  fi
fi
echo "$target"
