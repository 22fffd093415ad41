#!/usr/bin/env bash
# scripts/node-binary.sh <version> — prints the bin directory of that exact Node.js version.
#
# The first call installs the official binary from the npm registry (the node-<os>-<arch>
# package that the `node` package itself downloads) into ${ANYMQ_CACHE_DIR:-$HOME/.cache/anymq}
# (outside git); later calls print the cached directory at once. CI uses it to run the suites on
# Node versions other than the machine's own:  PATH="$(scripts/node-binary.sh 24.21.0):$PATH"
set -euo pipefail

version="${1:?usage: scripts/node-binary.sh <version, e.g. 24.21.0>}"
cache_dir="${ANYMQ_CACHE_DIR:-$HOME/.cache/anymq}"
case "$(uname -s)" in
Linux) os=linux ;;
Darwin) os=darwin ;;
*) echo "node-binary.sh: no Node binary package for $(uname -s)" >&2; exit 1 ;;
esac
case "$(uname -m)" in
x86_64 | amd64) arch=x64 ;;
aarch64 | arm64) arch=arm64 ;;
*) echo "node-binary.sh: no Node binary package for $(uname -m)" >&2; exit 1 ;;
esac

package="node-$os-$arch"
target="$cache_dir/node-$version"
bin_dir="$target/node_modules/$package/bin"

if [ ! -x "$bin_dir/node" ]; then
  mkdir -p "$cache_dir"
  # Checkouts on one machine share the cache: one install at a time.
  exec 8>"$cache_dir/.install-node-$version.lock"
  flock -w 600 8 || { echo "node-binary.sh: another install of Node $version is taking too long" >&2; exit 1; }
  if [ ! -x "$bin_dir/node" ]; then
    # Installed into a scratch folder and renamed, so a cancelled download never looks installed.
    scratch="$(mktemp -d "$cache_dir/.node-$version.XXXXXX")"
    npm install --prefix "$scratch" --no-save --no-audit --no-fund --no-package-lock --loglevel=error "$package@$version" >&2
    rm -rf "$target"
    mv "$scratch" "$target"
  fi
fi
echo "$bin_dir"
