#!/usr/bin/env bash
# scripts/check-packages.sh [dir] — packs every package as npm would publish it and checks each
# tarball with publint (--strict: warnings fail too) and @arethetypeswrong/cli (--profile
# esm-only: the packages are ESM-only, so only `require` is allowed to fail). Needs `pnpm build`
# first. The tarballs stay in [dir] (default .cache/packages) for scripts/packed-example.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

out="$(realpath -m "${1:-.cache/packages}")"
pnpm="$(bash scripts/pnpm-binary.sh 10.34.8)/pnpm"
rm -rf "$out"
mkdir -p "$out"
$pnpm -r --filter "./packages/**" pack --pack-destination "$out" >/dev/null

failed=0
for tarball in "$out"/*.tgz; do
  name="$(basename "$tarball" .tgz)"
  # Each tool's full report is printed only when it finds something.
  if ! report="$(node_modules/.bin/publint run --strict "$tarball" 2>&1)"; then
    echo "$report"
    echo "publint: $name FAILED"
    failed=1
  elif ! report="$(node_modules/.bin/attw "$tarball" --profile esm-only --format ascii 2>&1)"; then
    echo "$report"
    echo "attw: $name FAILED"
    failed=1
  else
    echo "ok: $name (publint, attw --profile esm-only)"
  fi
done
exit "$failed"
