#!/usr/bin/env bash
# scripts/packed-example.sh <node-bin-dir>... — what a new user does, from the packed tarballs:
# a blank project outside the workspace, `npm install` of @anymq/core, @anymq/memory and zod (as
# the README says), then the README's example (its first ts block, run as is by Node's type
# stripping) on memory:// once with each given Node. Needs scripts/check-packages.sh first.
set -euo pipefail
cd "$(dirname "$0")/.."

packages="$(realpath .cache/packages)"
project="$(mktemp -d)"
trap 'rm -rf "$project"' EXIT

node -e '
  const readme = require("fs").readFileSync("README.md", "utf8")
  const example = readme.split("## Example")[1]?.match(/```ts\n([\s\S]*?)```/)?.[1]
  if (!example) throw new Error("README.md: no ts block under ## Example")
  process.stdout.write(example)
' >"$project/example.ts"

cd "$project"
echo '{ "name": "blank-project", "private": true, "type": "module" }' >package.json
npm install --no-audit --no-fund --loglevel=error "$packages"/anymq-core-*.tgz "$packages"/anymq-memory-*.tgz zod >/dev/null

failed=0
for bin_dir in "$@"; do
  version="$("$bin_dir/node" --version)"
  # The example prints the price of 'abc' (30) and the dead letters of its one valid order (none).
  if output="$("$bin_dir/node" --no-warnings example.ts 2>&1)" && [ "$output" = "30 []" ]; then
    echo "ok: README example from the packed tarballs on Node $version"
  else
    echo "$output"
    echo "README example from the packed tarballs FAILED on Node $version"
    failed=1
  fi
done
exit "$failed"
