// `pnpm test` without arguments: every test file, in lanes that run side by side.
//
// A lane is one package's test folder (or the root test/ folder). The files of a broker lane run one
// after another, as they always did: they share one broker, and some of them restart it. Lanes run
// in parallel only when they share no broker, so a restart in one lane never hits another lane's
// connections. Which brokers a lane uses is read from its test sources (the ANYMQ_<BROKER>_URL
// variables they name); the root test/ folder sweeps every broker and runs alone. Lanes without a
// broker (core, memory, CLI, …) form one lane that keeps vitest's own file parallelism.
//
// Each lane is one `vitest run` with its own JSON report; the reports are merged into
// .cache/vitest-report.json, and each lane's output is printed whole when the lane ends, so the log
// reads like one run per package. ANYMQ_TEST_LANES sets how many lanes run at once (default 3).
//
// Test files that name an ANYMQ_CLUSTER_ variable need a 3-node cluster of scripts/cluster.sh; they
// are left out here and run by `pnpm test:cluster` (scripts/cluster-tests.sh), which starts it.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = join(import.meta.dirname, '..')
const laneDirectory = join(root, '.cache', 'test-lanes')
const mergedReport = join(root, '.cache', 'vitest-report.json')
const vitest = join(root, 'node_modules', '.bin', 'vitest')
const parallelLanes = Math.max(1, Number(process.env.ANYMQ_TEST_LANES ?? 3))

/** Brokers that are one process here: moto serves SQS, SNS, EventBridge, Kinesis, S3 and DynamoDB. */
const brokerAliases = { SNS: 'SQS', EVENTBRIDGE: 'SQS', KINESIS: 'SQS', S3: 'SQS', DYNAMODB: 'SQS', AWS: 'SQS' }
const EVERY_BROKER = '*'

function walk(directory, found = []) {
  if (!existsSync(directory)) return found
  for (const entry of readdirSync(directory)) {
    if (entry === 'node_modules' || entry === 'dist') continue
    const path = join(directory, entry)
    if (statSync(path).isDirectory()) walk(path, found)
    else found.push(path)
  }
  return found
}

function brokersNamedIn(sources) {
  const brokers = new Set()
  for (const source of sources) {
    for (const match of readFileSync(source, 'utf8').matchAll(/ANYMQ_([A-Z0-9]+?)_(?:TLS_)?URL\b/g)) {
      const name = match[1]
      brokers.add(brokerAliases[name] ?? name)
    }
  }
  return brokers
}

/** Test files for the clusters of scripts/cluster.sh (they read an ANYMQ_CLUSTER_… variable). */
const needsCluster = (file) => /\bANYMQ_CLUSTER_[A-Z0-9_]+\b/.test(readFileSync(file, 'utf8'))
const leftOut = []

function discoverLanes() {
  const lanes = []
  const unit = { name: 'unit (no broker)', folders: [], files: [], brokers: new Set(), parallelFiles: true }
  const testFolders = []
  for (const parent of ['packages', 'examples']) {
    if (!existsSync(join(root, parent))) continue
    for (const name of readdirSync(join(root, parent)).sort()) testFolders.push(join(root, parent, name, 'test'))
  }
  testFolders.push(join(root, 'test'))
  for (const folder of testFolders) {
    const files = walk(folder)
    if (!files.some((file) => file.endsWith('.test.ts'))) continue
    const relativeFolder = relative(root, folder)
    const isRoot = relativeFolder === 'test'
    const brokers = isRoot ? new Set([EVERY_BROKER]) : brokersNamedIn(files.filter((file) => file.endsWith('.ts')))
    const testFiles = files.filter((file) => file.endsWith('.test.ts') && !needsCluster(file))
    leftOut.push(...files.filter((file) => file.endsWith('.test.ts') && needsCluster(file)))
    if (brokers.size === 0) {
      unit.folders.push(relativeFolder)
      unit.files.push(...testFiles)
    } else {
      const name = relativeFolder.replace(/\/test$/, '')
      lanes.push({ name, folders: [relativeFolder], files: testFiles, brokers, parallelFiles: false })
    }
  }
  if (unit.folders.length > 0) lanes.push(unit)
  return lanes
}

/**
 * Longest first, from the last merged report when there is one; else a guess from the sources (a
 * conformance run against a real broker takes about a minute, the rest scales with the code).
 */
function guessedSeconds(lane) {
  let seconds = 0
  for (const folder of lane.folders) {
    for (const file of walk(join(root, folder)).filter((path) => path.endsWith('.test.ts'))) {
      const source = readFileSync(file, 'utf8')
      seconds += source.length / 1000 + 60 * (source.match(/describeConformance\(/g) ?? []).length
    }
  }
  return seconds
}

function expectedSeconds(lane) {
  if (!existsSync(mergedReport)) return guessedSeconds(lane)
  try {
    const report = JSON.parse(readFileSync(mergedReport, 'utf8'))
    let seconds = 0
    for (const result of report.testResults ?? []) {
      const file = relative(root, result.name)
      if (lane.folders.some((folder) => file.startsWith(`${folder}/`))) seconds += (result.endTime - result.startTime) / 1000
    }
    return seconds
  } catch {
    return 0
  }
}

function conflicts(lane, running) {
  for (const other of running) {
    if (lane.brokers.has(EVERY_BROKER) || other.brokers.has(EVERY_BROKER)) {
      if (lane.brokers.size > 0 && other.brokers.size > 0) return true
      continue
    }
    for (const broker of lane.brokers) if (other.brokers.has(broker)) return true
  }
  return false
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
        `\n━━━ lane ${lane.name} [${[...lane.brokers].join(', ') || 'no broker'}]: ${lane.exitCode === 0 ? 'passed' : `FAILED (exit ${code ?? signal})`} in ${lane.seconds} s\n${text}`,
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

const lanes = discoverLanes()
for (const lane of lanes) lane.expected = expectedSeconds(lane)
lanes.sort((a, b) => b.expected - a.expected)
rmSync(laneDirectory, { recursive: true, force: true })
mkdirSync(laneDirectory, { recursive: true })
const started = Date.now()
console.log(
  `anymq: ${lanes.length} test lanes, up to ${parallelLanes} at once (ANYMQ_TEST_LANES); lanes that share a broker never overlap:\n${lanes
    .map((lane) => `  ${lane.name} [${[...lane.brokers].join(', ') || 'no broker'}]: ${lane.folders.join(' ')}`)
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
