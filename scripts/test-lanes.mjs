// `pnpm test` without arguments: every test file, in lanes that run side by side.
//
// scripts/test-lane-plan.mjs says what a lane is and which lanes may overlap (never two where one
// restarts a broker the other uses); this file runs them, longest first, up to ANYMQ_TEST_LANES
// (default 3) at once.
//
// Each lane is one `vitest run` with its own JSON report; the reports are merged into
// .cache/vitest-report.json, and each lane's output is printed whole when the lane ends, so the log
// reads like one run per package.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { clash, guessedSeconds, planLanes } from './test-lane-plan.mjs'

const root = join(import.meta.dirname, '..')
const laneDirectory = join(root, '.cache', 'test-lanes')
const mergedReport = join(root, '.cache', 'vitest-report.json')
const vitest = join(root, 'node_modules', '.bin', 'vitest')
const parallelLanes = Math.max(1, Number(process.env.ANYMQ_TEST_LANES ?? 3))

/** Longest first: from the last merged report when there is one, else guessed from the sources. */
function expectedSeconds(lane) {
  if (!existsSync(mergedReport)) return guessedSeconds(lane)
  try {
    const report = JSON.parse(readFileSync(mergedReport, 'utf8'))
    const files = new Set(lane.files)
    let seconds = 0
    for (const result of report.testResults ?? []) {
      if (files.has(result.name)) seconds += (result.endTime - result.startTime) / 1000
    }
    return seconds
  } catch {
    return 0
  }
}

const conflicts = (lane, running) => [...running].some((other) => clash(lane, other))

function describeBrokers(lane) {
  const restarted = lane.restarts.size > 0 ? `; restarts ${[...lane.restarts].join(', ')}` : ''
  return `${[...lane.brokers].join(', ') || 'no broker'}${restarted}`
}

function runLane(lane, index) {
  const slug = `${String(index).padStart(2, '0')}-${lane.name.replace(/[^a-z0-9]+/gi, '-')}`
  lane.report = join(laneDirectory, `${slug}.json`)
  lane.log = join(laneDirectory, `${slug}.log`)
  // Absolute paths: vitest filters by substring, and 'test/x.test.ts' would match packages' files too.
  const args = ['run', ...lane.files]
  if (!lane.parallelFiles) args.push('--maxWorkers=1')
  const started = Date.now()
  return new Promise((resolve) => {
    const child = spawn(vitest, args, {
      cwd: root,
      env: { ...process.env, ANYMQ_VITEST_REPORT: lane.report, FORCE_COLOR: process.stdout.isTTY ? '1' : '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true, // its own process group, so a stop reaches vitest's workers too
    })
    children.add(child)
    const output = []
    child.stdout.on('data', (chunk) => output.push(chunk))
    child.stderr.on('data', (chunk) => output.push(chunk))
    child.on('close', (code, signal) => {
      children.delete(child)
      lane.exitCode = code ?? 1
      lane.seconds = Math.round((Date.now() - started) / 1000)
      const text = Buffer.concat(output).toString('utf8')
      writeFileSync(lane.log, text)
      process.stdout.write(
        `\n━━━ lane ${lane.name} [${describeBrokers(lane)}]: ${lane.exitCode === 0 ? 'passed' : `FAILED (exit ${code ?? signal})`} in ${lane.seconds} s\n${text}`,
      )
      resolve()
    })
  })
}

const children = new Set()
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of children) {
      try {
        process.kill(-child.pid, signal)
      } catch {}
    }
    process.exit(130)
  })
}

const { lanes, leftOut } = planLanes(root)
for (const lane of lanes) lane.expected = expectedSeconds(lane)
lanes.sort((a, b) => b.expected - a.expected)
rmSync(laneDirectory, { recursive: true, force: true })
mkdirSync(laneDirectory, { recursive: true })
const started = Date.now()
console.log(
  `anymq: ${lanes.length} test lanes, up to ${parallelLanes} at once (ANYMQ_TEST_LANES); a lane never overlaps one that uses a broker it restarts:\n${lanes
    .map((lane) => `  ${lane.name} [${describeBrokers(lane)}]: ${lane.folders?.join(' ') ?? lane.files.map((file) => relative(root, file)).join(' ')}`)
    .join('\n')}`,
)
if (leftOut.length > 0) {
  console.log(`  left out, they need a 3-node cluster (pnpm test:cluster): ${leftOut.map((file) => relative(root, file)).join(' ')}`)
}

const waiting = [...lanes]
const running = new Set()
let index = 0
await new Promise((allDone) => {
  const startWhatFits = () => {
    for (const lane of [...waiting]) {
      if (running.size >= parallelLanes) break
      if (conflicts(lane, running)) continue
      waiting.splice(waiting.indexOf(lane), 1)
      running.add(lane)
      runLane(lane, index++).then(() => {
        running.delete(lane)
        if (waiting.length === 0 && running.size === 0) allDone()
        else startWhatFits()
      })
    }
  }
  startWhatFits()
})

/** The first lines of each error under vitest's "Unhandled Errors" banner (its name, message and where). */
function unhandledErrorLines(log) {
  const plain = log.replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '').split('\n')
  const start = plain.findIndex((line) => line.includes('Unhandled Error'))
  if (start === -1) return plain.filter((line) => line.trim() !== '').slice(-6)
  return plain
    .slice(start)
    .filter((line) => /^(Error|TypeError|RangeError|Unhandled|This error|The latest test|\s*❯|[A-Za-z]*Error:)/.test(line.trim()))
    .slice(0, 12)
}

// One report for the whole run, in the shape vitest's JSON reporter writes (.ci/run reads it).
const merged = { numTotalTests: 0, numPassedTests: 0, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0, testResults: [], laneErrors: [] }
let failed = false
for (const lane of lanes) {
  if (lane.exitCode !== 0) failed = true
  if (!existsSync(lane.report)) {
    failed = true
    console.log(`anymq: lane ${lane.name} wrote no report (it crashed before the end of its run); see ${relative(root, lane.log)}`)
    continue
  }
  const report = JSON.parse(readFileSync(lane.report, 'utf8'))
  for (const key of ['numTotalTests', 'numPassedTests', 'numFailedTests', 'numPendingTests', 'numTodoTests']) merged[key] += report[key] ?? 0
  merged.testResults.push(...(report.testResults ?? []))
  // A lane can fail with every test passed: vitest fails the run on an unhandled error, which its JSON
  // report leaves out. The lines that name it are kept so the end of the log still says why.
  if (lane.exitCode !== 0 && !report.numFailedTests) merged.laneErrors.push({ lane: lane.name, lines: unhandledErrorLines(readFileSync(lane.log, 'utf8')) })
}
merged.success = !failed
writeFileSync(mergedReport, JSON.stringify(merged))

console.log(`\n━━━ all lanes, ${Math.round((Date.now() - started) / 1000)} s:`)
for (const lane of lanes) console.log(`  ${lane.exitCode === 0 ? 'ok    ' : 'FAILED'}  ${String(lane.seconds).padStart(4)} s  ${lane.name}`)
console.log(`  ${merged.numPassedTests} passed, ${merged.numFailedTests} failed, ${merged.numPendingTests + merged.numTodoTests} skipped`)
process.exit(failed ? 1 : 0)
