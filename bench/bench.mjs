#!/usr/bin/env node
// Builds what the benchmark runs (core, the memory adapter, the CLI, every adapter package present, the
// harness) with tsc, then runs the compiled JavaScript: the code users run, without tsx's per-closure
// `__name` helper that would tax anymq's TypeScript but not the raw clients' JavaScript.
//   node --expose-gc bench/bench.mjs [memory | check] [--no-build] [harness or check options]
import { execFile, execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const benchDirectory = dirname(fileURLToPath(import.meta.url))
const root = join(benchDirectory, '..')
const tsc = join(root, 'node_modules', '.bin', 'tsc')
const args = process.argv.slice(2)
const entries = { memory: 'memory.js', check: 'check.js' }
const entry = entries[args[0]] ?? 'run.js'
if (entries[args[0]]) args.shift()
const skipBuild = args.includes('--no-build')

// Broker URLs: what the environment says, else what scripts/brokers.sh would export (it starts nothing).
const brokersScript = join(root, 'scripts', 'brokers.sh')
if (!process.env.ANYMQ_BROKERS_SCRIPT && existsSync(brokersScript)) {
  try {
    for (const line of execFileSync(brokersScript, ['env'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 30_000 }).split('\n')) {
      const match = /^export ([A-Z_][A-Z0-9_]*)='([^']*)'$/.exec(line)
      if (match && process.env[match[1]] === undefined) process.env[match[1]] = match[2]
    }
  } catch {
    // No broker environment: those brokers are reported as "not run".
  }
}

/** Newest modification time of the files under a folder (0 when it does not exist). */
function newest(path) {
  if (!existsSync(path)) return 0
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))))
}

async function build(folder) {
  const project = join(root, folder, 'tsconfig.build.json')
  if (!existsSync(project)) return `${folder}: no tsconfig.build.json`
  const output = join(root, folder, 'dist', folder === 'bench' ? 'run.js' : 'index.js')
  // Up to date: tsc rewrites every output file, so the entry's time is the build's time.
  if (existsSync(output) && statSync(output).mtimeMs > Math.max(newest(join(root, folder, 'src')), newest(project))) return undefined
  try {
    await run(tsc, ['-p', project], { cwd: join(root, folder) })
  } catch (error) {
    // tsc still emits JavaScript on type errors; a package that emitted nothing is reported by the harness.
    return `${folder}: ${String(error.stdout || error.message).split('\n')[0]}`
  }
  return undefined
}

if (!skipBuild) {
  const started = Date.now()
  process.stderr.write('building core, adapters, cli and the harness with tsc… ')
  const problems = [await build('packages/core')]
  const adapters = [
    'packages/adapter-memory',
    'packages/conformance', // the CLI's conformance command imports it
    'packages/cli',
    'packages/adapter-rabbitmq',
    'packages/adapter-kafka',
    'packages/adapter-aws',
    'packages/adapter-redis',
    'packages/adapter-nats',
    'packages/adapter-gcp-pubsub',
    'packages/adapter-kinesis',
  ]
  const present = adapters.filter((folder) => existsSync(join(root, folder, 'package.json')))
  for (let index = 0; index < present.length; index += 2) problems.push(...(await Promise.all(present.slice(index, index + 2).map(build))))
  problems.push(await build('bench'))
  process.stderr.write(`done in ${((Date.now() - started) / 1000).toFixed(0)} s\n`)
  for (const problem of problems.filter(Boolean)) process.stderr.write(`  type errors (built anyway) in ${problem}\n`)
}
// The AWS SDK warns once that its 2027 releases will need Node 22; keep the report readable.
process.removeAllListeners('warning')
process.on('warning', (warning) => {
  if (warning.name !== 'NodeVersionSupportWarning') process.stderr.write(`${warning.name}: ${warning.message}\n`)
})
process.argv = [process.argv[0], join(benchDirectory, 'dist', entry), ...args.filter((arg) => arg !== '--no-build')]
await import(pathToFileURL(join(benchDirectory, 'dist', entry)).href)
