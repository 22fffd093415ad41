#!/usr/bin/env bash
# scripts/node-binary.sh <version> — prints the bin directory of that exact Node.js version.
#
# The first call installs the official binary from the npm registry (the node-<os>-<arch>
# package that the `node` package itself downloads) into ${ANYMQ_CACHE_DIR:-$HOME/.cache/anymq}
# (outside git); later calls print the cached directory at once. CI uses it to run the suites on
# Node versions other than the machine's own:  PATH="$(scripts/node-binary.sh 24.21.0):$PATH"
set -euo pipefail

version="${1:?usage: scripts/node-binary.sh <version, e.g. 24.21.0>}"
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
target="$(bash "$(dirname "$0")/cached-npm-package.sh" "node-$version" "$package@$version" "node_modules/$package/bin/node")"
echo "$target/node_modules/$package/bin"
