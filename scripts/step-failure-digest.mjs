// Prints a few lines that say why a CI step failed, from its saved output: the failed tests, vitest's
// unhandled errors and error lines, or else the step's last lines. The end of a CI log is often all
// that is kept, and a step can fail with no failed test (an unhandled error, a script that gave up).
// usage: node scripts/step-failure-digest.mjs <step.log>
import { existsSync, readFileSync } from 'node:fs'

const LIMIT = 14
const file = process.argv[2]
if (!file || !existsSync(file)) process.exit(0)
const lines = readFileSync(file, 'utf8')
  .replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '') // colour codes
  .split('\n')
  .map((line) => line.trimEnd())
  .filter((line) => line.trim() !== '')
// Logged errors (`error: "ConnectionError…` under a stderr line) are expected noise in failover tests: not picked.
const telling = /^\s*(FAIL\b|×|✗|Unhandled|This error originated|[A-Z][A-Za-z]*Error: |chaos \w+: FAILED|cluster: .*(missing|fail|not )|Test Files|Tests\s)/
const picked = []
for (const line of lines) {
  if (!telling.test(line)) continue
  const text = line.trim().slice(0, 300)
  if (!picked.includes(text)) picked.push(text)
  if (picked.length === LIMIT) break
}
for (const line of picked.length > 0 ? picked : lines.slice(-10).map((line) => line.trim().slice(0, 300))) console.log(`      ${line}`)
