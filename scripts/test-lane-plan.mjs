// Which lanes `pnpm test` runs and which of them may overlap: read from the test sources alone, so
// scripts/test-lanes.mjs (which runs them) and test/test-lane-plan.test.ts see the same plan.
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
// The root test/ folder sweeps every broker and restarts one from a variable, so it runs beside
// no broker lane (its SIGKILLs run only under `pnpm test:secrets-kill`, but beside the cli lane its
// README example on Kafka missed its 2 s reply once: it stays alone, as before).
//
// A file with a conformance suite (the minutes-long ones) is a lane of its own when it shares no
// restarted broker with the rest of its folder, so a package's suites run beside each other and
// beside its other files. Lanes without a broker (core, memory, …) form one lane that keeps
// vitest's own file parallelism.
//
// Test files that name an ANYMQ_CLUSTER_ variable need a 3-node cluster of scripts/cluster.sh; they
// are left out and run by `pnpm test:cluster` (scripts/cluster-tests.sh), which starts it.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'

/** Brokers that are one process here: moto serves SQS, SNS, EventBridge, Kinesis, S3 and DynamoDB. */
const brokerAliases = { SNS: 'SQS', EVENTBRIDGE: 'SQS', KINESIS: 'SQS', S3: 'SQS', DYNAMODB: 'SQS', AWS: 'SQS' }
export const EVERY_BROKER = '*'

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
/** The brokers script's argument list when it stops or starts a broker: `['restart', '--kill', 'nats']` (either quote). */
const brokerCommand = /\[\s*['"](?:restart|up|down|stop|start|kill)['"]\s*(,[^\]]*)?\]/g

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
export function brokersOf(files) {
  const brokers = new Set()
  const restarts = new Set()
  for (const source of new Set(files.flatMap((file) => [...withLocalImports(file)]))) {
    const text = readFileSync(source, 'utf8')
    for (const match of text.matchAll(/ANYMQ_([A-Z0-9]+?)_(?:TLS_|AUTH_)?URL\b/g)) brokers.add(brokerAliases[match[1]] ?? match[1])
    for (const match of text.matchAll(brokerCommand)) {
      const names = [...(match[1] ?? '').matchAll(/['"]([a-z0-9][a-z0-9-]*)['"]/g)].map((name) => name[1])
      if (names.length === 0 || names.includes('all')) restarts.add(EVERY_BROKER)
      for (const name of names) restarts.add(scriptBrokers[name] ?? name.toUpperCase())
    }
  }
  return { brokers, restarts }
}

/** Test files for the clusters of scripts/cluster.sh (they read an ANYMQ_CLUSTER_… variable). */
const needsCluster = (file) => /\bANYMQ_CLUSTER_[A-Z0-9_]+\b/.test(readFileSync(file, 'utf8'))

/** Whether a broker of `restarts` is one of `brokers` (EVERY_BROKER on either side meets any broker). */
function meets(restarts, brokers) {
  if (restarts.size === 0 || brokers.size === 0) return false
  if (restarts.has(EVERY_BROKER) || brokers.has(EVERY_BROKER)) return true
  return [...restarts].some((broker) => brokers.has(broker))
}

/** Whether two lanes must not overlap: one restarts a broker the other uses. */
export const clash = (one, other) => meets(one.restarts, other.brokers) || meets(other.restarts, one.brokers)

/** The lanes of the workspace at `root`, and the test files left out (they need a cluster). */
export function planLanes(root) {
  const lanes = []
  const leftOut = []
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
      const suite = {
        name: `${name} (${relative(folder, file).replace(/\.test\.ts$/, '')})`,
        files: [file],
        parallelFiles: false,
        ...brokersOf([file]),
      }
      // The rest keeps every other source of the folder (helpers, child-process scripts): it may only overstate what it restarts.
      const rest = {
        files: folderLane.files.filter((other) => other !== file),
        ...brokersOf(sources.filter((source) => source !== file)),
      }
      if (rest.files.length === 0 || clash(suite, rest)) continue
      lanes.push(suite)
      sources = sources.filter((source) => source !== file)
      Object.assign(folderLane, rest)
    }
    lanes.push(folderLane)
  }
  if (unit.folders.length > 0) lanes.push(unit)
  return { lanes, leftOut }
}

/**
 * How long a lane takes, guessed from its sources when no earlier report says (.ci/run starts
 * without one): the whole conformance suite against a real broker takes about a minute, a suite of
 * some `groups` its share of that, a `timeScale` stretches it; the rest scales with the code.
 */
export function guessedSeconds(lane) {
  let seconds = 0
  for (const file of lane.files) {
    const source = readFileSync(file, 'utf8')
    seconds += source.length / 1000
    for (const suite of source.split(/\bdescribeConformance\(/).slice(1)) {
      const groups = /\bgroups: \[([^\]]*)\]/.exec(suite)?.[1].match(/'[a-z-]+'/g)?.length ?? wholeSuite
      seconds += (60 * Math.min(groups, wholeSuite) * Number(/\btimeScale: (\d+)/.exec(suite)?.[1] ?? 1)) / wholeSuite
    }
  }
  return seconds
}

/** The number of groups of the conformance suite (packages/conformance/src/conformance-groups.ts). */
const wholeSuite = 16
