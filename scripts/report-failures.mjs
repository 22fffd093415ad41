// Prints the failed tests of vitest JSON reports, one line each with the first line of its error, so the
// end of a CI log (often all that is kept) says which tests failed and why, not only how many.
// usage: node scripts/report-failures.mjs <report.json>... (missing files are ignored)
import { existsSync, readFileSync } from 'node:fs'
import { relative } from 'node:path'

const LIMIT = 25
const failures = []
const laneErrors = []
for (const file of process.argv.slice(2)) {
  if (!existsSync(file)) continue
  const report = JSON.parse(readFileSync(file, 'utf8'))
  for (const suite of report.testResults ?? []) {
    const failed = (suite.assertionResults ?? []).filter((test) => test.status === 'failed')
    for (const test of failed) failures.push({ file: relative(process.cwd(), suite.name), test })
    // A file that failed before any test ran (an import error, a failing beforeAll) has no failed test.
    if (failed.length === 0 && suite.status === 'failed') failures.push({ file: relative(process.cwd(), suite.name), message: suite.message })
  }
  // Written by scripts/test-lanes.mjs for a lane that failed on unhandled errors alone.
  for (const { lane, lines } of report.laneErrors ?? []) laneErrors.push({ lane, lines })
}
const firstLine = (text) =>
  String(text ?? '')
    .replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '') // colour codes
    .split('\n')
    .find((line) => line.trim() !== '')
    ?.trim()
    .slice(0, 300) ?? ''
for (const failure of failures.slice(0, LIMIT)) {
  const name = failure.test ? failure.test.fullName : '(the file itself)'
  let reason = firstLine(failure.test?.failureMessages?.[0] ?? failure.message)
  // vitest's JSON report keeps a timeout only as this placeholder; the duration says what happened.
  if (reason === 'Error: STACK_TRACE_ERROR') reason = 'no error message kept (a timeout, most often)'
  const seconds = failure.test?.duration === undefined ? '' : ` after ${(failure.test.duration / 1000).toFixed(1)} s`
  console.log(`  ✗ ${failure.file} › ${name}${seconds}\n      ${reason}`)
}
if (failures.length > LIMIT) console.log(`  … and ${failures.length - LIMIT} more failed tests`)
for (const { lane, lines } of laneErrors) {
  console.log(`  ✗ lane ${lane} failed with no failed test (unhandled errors):`)
  for (const line of lines) console.log(`      ${line.trim().slice(0, 300)}`)
}
