// `pnpm test` without arguments: every test file, in lanes that run side by side.
//
// A lane is one package's test folder (or the root test/ folder), whose files run one after another.
// Two lanes run side by side unless one of them restarts (or stops, or kills) a broker the other
// uses: a restart would pull that broker from under the other lane's connections. Sharing a broker
// that nobody restarts is fine: every case makes its own uniquely named queues and topics. moto (SQS
// and every AWS service here) is such a broker: it keeps its state in memory, so no `pnpm test` file
// restarts it (the restart group runs on ElasticMQ, `pnpm test:elasticmq`), and the SQS lanes, once
// one long chain, overlap.
//
// Both facts are read from the sources, never declared: the brokers a file uses are the
// ANYMQ_<BROKER>_URL variables it names, and the brokers it restarts are the names it passes to the
// brokers script (`['restart', 'nats']`, `['restart', '--kill', 'elasticmq']`, `['up', 'rabbitmq']`),
// both through the local helpers it imports (./broker.js). A call whose broker is not written out
// (a variable) counts as restarting every broker, so a restart added later keeps its lanes apart.
// The root test/ folder sweeps every broker and restarts one from a variable: it runs beside none.
//
// A file with a conformance suite (the minutes-long ones) is a lane of its own when it shares no
// restarted broker with the rest of its folder, so a package's suites run beside each other and
// beside its other files. Lanes without a broker (core, memory, …) form one lane that keeps
// vitest's own file parallelism.
//
// Each lane is one `vitest run` with its own JSON report; the reports are merged into
// .cache/vitest-report.json, and each lane's output is printed whole when the lane ends, so the log
// reads like one run per package. ANYMQ_TEST_LANES sets how many lanes run at once (default 3).
//
// Test files that name an ANYMQ_CLUSTER_ variable need a 3-node cluster of scripts/cluster.sh; they
// are left out here and run by `pnpm test:cluster` (scripts/cluster-tests.sh), which starts it.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'

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

/** Broker names of scripts/brokers.sh (and its aliases) as their ANYMQ_<BROKER>_URL variables name them. */
const scriptBrokers = {
  sqs: 'SQS',
  sns: 'SQS',
  moto: 'SQS',
  pg: 'POSTGRES',
  postgresql: 'POSTGRES',
  jetstream: 'NATS',
  pstest: 'PUBSUB',
  'gcp-pubsub': 'PUBSUB',
}
const brokerCommand = /\[\s*'(?:restart|up|down|stop|start|kill)'\s*(,[^\]]*)?\]/g

/** The file and the local helpers it imports (`./broker.js` is `./broker.ts`), each once. */
function withLocalImports(file, seen = new Set()) {
  if (seen.has(file) || !existsSync(file)) return seen
  seen.add(file)
  for (const match of readFileSync(file, 'utf8').matchAll(/from '(\.\.?\/[^']+)\.js'/g)) {
    const imported = join(dirname(file), `${match[1]}.ts`)
    if (!imported.includes('/src/')) withLocalImports(imported, seen)
  }
  return seen
}

/** What the files use (`brokers`) and restart (`restarts`): EVERY_BROKER when a restarted broker is not written out. */
function brokersOf(files) {
  const brokers = new Set()
  const restarts = new Set()
  for (const source of new Set(files.flatMap((file) => [...withLocalImports(file)]))) {
    const text = readFileSync(source, 'utf8')
    for (const match of text.matchAll(/ANYMQ_([A-Z0-9]+?)_(?:TLS_)?URL\b/g)) brokers.add(brokerAliases[match[1]] ?? match[1])
    for (const match of text.matchAll(brokerCommand)) {
      const names = [...(match[1] ?? '').matchAll(/'([a-z0-9][a-z0-9-]*)'/g)].map((name) => name[1])
      if (names.length === 0 || names.includes('all')) restarts.add(EVERY_BROKER)
      for (const name of names) restarts.add(scriptBrokers[name] ?? name.toUpperCase())
    }
  }
  return { brokers, restarts }
}

/** Test files for the clusters of scripts/cluster.sh (they read an ANYMQ_CLUSTER_… variable). */
const needsCluster = (file) => /\bANYMQ_CLUSTER_[A-Z0-9_]+\b/.test(readFileSync(file, 'utf8'))
const leftOut = []

/** Whether a broker of `restarts` is one of `brokers` (EVERY_BROKER on either side meets any broker). */
function meets(restarts, brokers) {
  if (restarts.size === 0 || brokers.size === 0) return false
  if (restarts.has(EVERY_BROKER) || brokers.has(EVERY_BROKER)) return true
  return [...restarts].some((broker) => brokers.has(broker))
}

/** Whether two lanes must not overlap: one restarts a broker the other uses. */
const clash = (one, other) => meets(one.restarts, other.brokers) || meets(other.restarts, one.brokers)

function discoverLanes() {
  const lanes = []
  const unit = { name: 'unit (no broker)', folders: [], files: [], brokers: new Set(), restarts: new Set(), parallelFiles: true }
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
    const testFiles = files.filter((file) => file.endsWith('.test.ts') && !needsCluster(file))
    leftOut.push(...files.filter((file) => file.endsWith('.test.ts') && needsCluster(file)))
    let sources = files.filter((file) => file.endsWith('.ts'))
    const { brokers: named, restarts } = brokersOf(sources)
    const brokers = isRoot ? new Set([EVERY_BROKER]) : named
    if (brokers.size === 0) {
      unit.folders.push(relativeFolder)
      unit.files.push(...testFiles)
      continue
    }
    const name = relativeFolder.replace(/\/test$/, '')
    const folderLane = { name, folders: [relativeFolder], files: testFiles, brokers, restarts, parallelFiles: false }
    for (const file of testFiles) {
      if (isRoot || !/\bdescribeConformance\(/.test(readFileSync(file, 'utf8'))) continue
      const suite = { name: `${name} (${relative(folder, file).replace(/\.test\.ts$/, '')})`, files: [file], parallelFiles: false, ...brokersOf([file]) }
      // The rest keeps every other source of the folder (helpers, child-process scripts): it may only overstate what it restarts.
      const rest = { files: folderLane.files.filter((other) => other !== file), ...brokersOf(sources.filter((source) => source !== file)) }
      if (rest.files.length === 0 || clash(suite, rest)) continue
      lanes.push(suite)
      sources = sources.filter((source) => source !== file)
      Object.assign(folderLane, rest)
    }
    lanes.push(folderLane)
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
  for (const file of lane.files) {
    const source = readFileSync(file, 'utf8')
    seconds += source.length / 1000 + 60 * (source.match(/describeConformance\(/g) ?? []).length
  }
  return seconds
}

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

const lanes = discoverLanes()
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
