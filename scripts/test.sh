#!/usr/bin/env bash
# `pnpm test`: the typecheck, then every test file. The workspace needs Node >= 22.22 (engines); on an
# older Node (a fresh machine's own Node 20, say) the same run goes on under Node 24 from the npm
# registry (scripts/node-binary.sh, cached outside git), and says so up front.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! node -e 'const [major, minor] = process.versions.node.split(".").map(Number); process.exit(major > 22 || (major === 22 && minor >= 22) ? 0 : 1)'; then
  bin="$(bash scripts/node-binary.sh 24.21.0)"
  echo "anymq: Node $(node --version) is older than the 22.22 the workspace needs; running the tests on Node $("$bin/node" --version) from the npm registry" >&2
  export PATH="$bin:$PATH"
fi
tsc -p tsconfig.json --noEmit
# With arguments (a folder, a file, -t …) it is one plain vitest run; without, every file in lanes that
# run side by side unless one restarts a broker the other uses (scripts/test-lane-plan.mjs says how).
if [ "$#" -gt 0 ]; then exec vitest run "$@"; fi
exec node scripts/test-lanes.mjs
