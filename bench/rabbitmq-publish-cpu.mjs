#!/usr/bin/env node
// One side of the "publish, one send per message, 64 in flight" cell (or, with `--batch 100`, of the
// "sendBatch of 100" cell: 4 batches in flight), alone in its process, for `node --cpu-prof`,
// `node --trace-gc-nvp`, `strace -c` and for A/B runs of two builds of the adapter:
//   node bench/rabbitmq-publish-cpu.mjs anymq|raw [--messages 20000] [--bytes 1000] [--batch 100] [--adapter-dist dist]
// anymq: `queue.send` through the compiled core and adapter (`--adapter-dist` names another build folder
// under packages/adapter-rabbitmq, e.g. a copy of the previous `dist`); raw: amqplib `sendToQueue` on a
// confirm channel, persistent and mandatory, as the bench's raw side (a batch: `sendToQueue` each, then
// `waitForConfirms`). Prints the CPU µs per message
// of this process and the throughput, after an untimed warm-up of 2 000 messages.
// Needs `pnpm build` (or one `pnpm bench` run) and ANYMQ_RABBITMQ_URL (`scripts/brokers.sh env`).
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const amqp = createRequire(join(root, 'bench', 'package.json'))('amqplib')
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { messages: { type: 'string' }, bytes: { type: 'string' }, batch: { type: 'string' }, 'adapter-dist': { type: 'string' } },
})
const side = positionals[0]
if (side !== 'anymq' && side !== 'raw') throw new Error(`side must be anymq or raw, not ${side}`)
const messages = Number(values.messages ?? 20_000)
const bytes = Number(values.bytes ?? 1000)
const batch = values.batch === undefined ? undefined : Number(values.batch)
const url = process.env.ANYMQ_RABBITMQ_URL
if (!url) throw new Error('ANYMQ_RABBITMQ_URL is not set: eval "$(bash scripts/brokers.sh env)" first')

// The broker's own CPU (utime + stime of its beam process, 10 ms ticks) when it is scripts/brokers.sh's.
const pidFile = join(root, '.brokers', 'rabbitmq', 'rabbitmq.pid')
const beamPid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').trim()) : undefined
const brokerTicks = () => {
  if (beamPid === undefined) return 0
  const fields = readFileSync(`/proc/${beamPid}/stat`, 'utf8').split(') ')[1].split(' ')
  return Number(fields[11]) + Number(fields[12])
}

const body = (seq) => ({ seq, pad: 'x'.repeat(Math.max(0, bytes - 20)) })
const queue = `publish-cpu-${side}-${process.pid}`
const connection = await amqp.connect(url, { noDelay: true })
let send
let sendBatch
let closeClient = async () => {}
if (side === 'raw') {
  const channel = await connection.createConfirmChannel()
  await channel.assertQueue(queue, { durable: true })
  const options = { persistent: true, mandatory: true, contentType: 'application/json' }
  send = (value) =>
    new Promise((resolve, reject) => channel.sendToQueue(queue, Buffer.from(JSON.stringify(value)), options, (error) => (error ? reject(error) : resolve())))
  sendBatch = async (values) => {
    for (const value of values) channel.sendToQueue(queue, Buffer.from(JSON.stringify(value)), options)
    await channel.waitForConfirms()
  }
} else {
  const { connect } = await import(pathToFileURL(join(root, 'packages', 'core', 'dist', 'index.js')).href)
  const dist = values['adapter-dist'] ?? 'dist'
  const { adapter } = await import(pathToFileURL(join(root, 'packages', 'adapter-rabbitmq', dist, 'index.js')).href)
  const client = await connect(url, { adapter })
  const handle = client.queue(queue)
  send = (value) => handle.send(value)
  sendBatch = (values) => handle.sendBatch(values)
  closeClient = () => client.close()
}

async function run(count) {
  let next = 0
  if (batch !== undefined) {
    // As the bench's publish-batch workload: 4 calls in flight, each of `batch` messages.
    const worker = async () => {
      while (next < count) {
        const first = next
        next = Math.min(count, next + batch)
        await sendBatch(Array.from({ length: next - first }, (_, index) => body(first + index)))
      }
    }
    return Promise.all(Array.from({ length: 4 }, worker))
  }
  const worker = async () => {
    while (next < count) await send(body(next++))
  }
  await Promise.all(Array.from({ length: 64 }, worker))
}

await run(2000)
const ticks = brokerTicks()
const cpu = process.cpuUsage()
const start = performance.now()
await run(messages)
const used = process.cpuUsage(cpu)
const seconds = (performance.now() - start) / 1000
// The broker finishes its disk work after the last confirm; its share of the run lands here.
await new Promise((resolve) => setTimeout(resolve, 300))
const broker = beamPid === undefined ? '' : `, broker ${(((brokerTicks() - ticks) * 10_000) / messages).toFixed(1)} µs/msg`
const label = side === 'anymq' && values['adapter-dist'] ? `anymq (${values['adapter-dist']})` : side
console.log(
  `${label}, ${bytes} B${batch === undefined ? '' : `, batches of ${batch}`}: ${((used.user + used.system) / messages).toFixed(1)} µs/msg CPU${broker}, ${(messages / seconds).toFixed(0)} msg/s`,
)
await closeClient()
const cleanup = await connection.createChannel()
await cleanup.deleteQueue(queue)
await connection.close()
