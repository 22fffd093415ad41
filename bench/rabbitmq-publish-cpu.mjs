#!/usr/bin/env node
// One side of the "publish, one send per message, 64 in flight" cell (or, with `--batch 100`, of the
// "sendBatch of 100" cell: 4 batches in flight), alone in its process, for `node --cpu-prof`,
// `node --trace-gc-nvp`, `strace -c` and for A/B runs of two builds of the adapter:
//   node bench/rabbitmq-publish-cpu.mjs anymq|raw|raw-shaped [--messages 20000] [--bytes 1000] [--batch 100] [--adapter-dist dist] [--timeline]
// anymq: `queue.send` through the compiled core and adapter (`--adapter-dist` names another build folder
// under packages/adapter-rabbitmq, e.g. a copy of the previous `dist`); raw: amqplib `sendToQueue` on a
// confirm channel, persistent and mandatory, as the bench's raw side (a batch: `sendToQueue` each, then
// `waitForConfirms`); raw-shaped: the same raw side with anymq's properties (a message id, the
// timestamp and the `x-anymq-timestamp` header), to tell what the message costs the broker from what
// anymq's client does. Prints the CPU µs per message of this process and the throughput, after an
// untimed warm-up of 2 000 messages. `--timeline` adds what went over the socket per message (bytes,
// write system calls, reads: the broker's confirms arrive in them) and each call's time to its last
// confirm (p10/p50/p90/p99 ms), counted on the socket of this process.
// Needs `pnpm build` (or one `pnpm bench` run) and ANYMQ_RABBITMQ_URL (`scripts/brokers.sh env`).
import { randomUUID } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import net from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const amqp = createRequire(join(root, 'bench', 'package.json'))('amqplib')
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    messages: { type: 'string' },
    bytes: { type: 'string' },
    batch: { type: 'string' },
    'adapter-dist': { type: 'string' },
    timeline: { type: 'boolean' },
  },
})
const side = positionals[0]
if (side !== 'anymq' && side !== 'raw' && side !== 'raw-shaped') throw new Error(`side must be anymq, raw or raw-shaped, not ${side}`)
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
if (side !== 'anymq') {
  const channel = await connection.createConfirmChannel()
  await channel.assertQueue(queue, { durable: true })
  const plain = { persistent: true, mandatory: true, contentType: 'application/json' }
  // What anymq writes besides (see the adapter's publishOptions), fresh per message as anymq's are.
  const options =
    side === 'raw'
      ? () => plain
      : () => {
          const now = Date.now()
          return { ...plain, messageId: randomUUID(), timestamp: Math.floor(now / 1000), headers: { 'x-anymq-timestamp': String(now) } }
        }
  send = (value) =>
    new Promise((resolve, reject) => channel.sendToQueue(queue, Buffer.from(JSON.stringify(value)), options(), (error) => (error ? reject(error) : resolve())))
  sendBatch = async (values) => {
    for (const value of values) channel.sendToQueue(queue, Buffer.from(JSON.stringify(value)), options())
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

// --timeline: the socket's traffic and each call's time to its confirms, counted only while `timed`.
const traffic = { bytesOut: 0, writeCalls: 0, reads: 0 }
const latencies = []
let timed = false
if (values.timeline) {
  const { _write: write, _writev: writev } = net.Socket.prototype
  net.Socket.prototype._write = function (chunk, encoding, callback) {
    if (timed) {
      traffic.writeCalls++
      traffic.bytesOut += chunk.length
    }
    return write.call(this, chunk, encoding, callback)
  }
  net.Socket.prototype._writev = function (chunks, callback) {
    if (timed) {
      traffic.writeCalls++
      for (const { chunk } of chunks) traffic.bytesOut += chunk.length
    }
    return writev.call(this, chunks, callback)
  }
  const push = net.Socket.prototype.push
  net.Socket.prototype.push = function (chunk, encoding) {
    if (timed && chunk) traffic.reads++
    return push.call(this, chunk, encoding)
  }
}
const timedCall = async (call) => {
  const start = performance.now()
  await call()
  if (timed) latencies.push(performance.now() - start)
}

async function run(count) {
  let next = 0
  if (batch !== undefined) {
    // As the bench's publish-batch workload: 4 calls in flight, each of `batch` messages.
    const worker = async () => {
      while (next < count) {
        const first = next
        next = Math.min(count, next + batch)
        await timedCall(() => sendBatch(Array.from({ length: next - first }, (_, index) => body(first + index))))
      }
    }
    return Promise.all(Array.from({ length: 4 }, worker))
  }
  const worker = async () => {
    while (next < count) await timedCall(() => send(body(next++)))
  }
  await Promise.all(Array.from({ length: 64 }, worker))
}

await run(2000)
timed = true
const ticks = brokerTicks()
const cpu = process.cpuUsage()
const start = performance.now()
await run(messages)
const used = process.cpuUsage(cpu)
timed = false
const seconds = (performance.now() - start) / 1000
// The broker finishes its disk work after the last confirm; its share of the run lands here.
await new Promise((resolve) => setTimeout(resolve, 300))
const broker = beamPid === undefined ? '' : `, broker ${(((brokerTicks() - ticks) * 10_000) / messages).toFixed(1)} µs/msg`
const label = side === 'anymq' && values['adapter-dist'] ? `anymq (${values['adapter-dist']})` : side
console.log(
  `${label}, ${bytes} B${batch === undefined ? '' : `, batches of ${batch}`}: ${((used.user + used.system) / messages).toFixed(1)} µs/msg CPU${broker}, ${(messages / seconds).toFixed(0)} msg/s`,
)
if (values.timeline) {
  latencies.sort((a, b) => a - b)
  const at = (share) => latencies[Math.floor(share * (latencies.length - 1))].toFixed(2)
  console.log(
    `  per message: ${(traffic.bytesOut / messages).toFixed(1)} bytes out, ${(traffic.writeCalls / messages).toFixed(3)} socket writes, ${(traffic.reads / messages).toFixed(4)} socket reads; per call to its confirms: p10 ${at(0.1)}, p50 ${at(0.5)}, p90 ${at(0.9)}, p99 ${at(0.99)} ms`,
  )
}
await closeClient()
const cleanup = await connection.createChannel()
await cleanup.deleteQueue(queue)
await connection.close()
