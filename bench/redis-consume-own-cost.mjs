#!/usr/bin/env node
// The Redis adapter's and core's own cost per consumed message, without Redis or a client library: the compiled
// adapter's RedisTransport on a stub connection that answers each command on the next setImmediate (XREADGROUP with
// pre-built entries in the packed layout, XACK/XDEL with a count), drained by `queue.consume` at concurrency 16 with
// the JSON codec, as the bench's consume c16 cell does. Main-thread CPU µs per message of each round (the first pays
// for compiling), median of the rounds after the first. Build the adapter first (tsc -p tsconfig.build.json in
// packages/adapter-redis); REDIS_DIST=<dir>/ compares another build of it.
//   node --expose-gc bench/redis-consume-own-cost.mjs [bytes=100] [messages=20000] [rounds=6]
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = process.env.REDIS_DIST ?? join(root, 'packages/adapter-redis/dist/')
const load = (file) => import(pathToFileURL(join(dist, file)).href)
const { RedisTransport } = await load('redis-transport.js')
const { readSettings } = await load('redis-config.js')
const { adapter } = await load('index.js')
const { entryFields } = await load('redis-wire.js')
const { connect } = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href)

const bytes = Number(process.argv[2] ?? 100)
const total = Number(process.argv[3] ?? 20_000)
const rounds = Number(process.argv[4] ?? 6)
const run = 'abcdefgh'
const pad = 'x'.repeat(Math.max(0, bytes - 60))
const entries = Array.from({ length: total }, (_, seq) => {
  const body = Buffer.from(JSON.stringify({ run, seq, sentAt: 1.5, pad }))
  const message = {
    id: `01934c5e-7b3c-7d4e-8f5a-${String(seq).padStart(12, '0')}`,
    body,
    contentType: 'application/json',
    headers: {},
    timestamp: 1_733_000_000_000 + seq,
  }
  // As node-redis returns them for a binary read: a Buffer per bulk string.
  return [Buffer.from(`1733000000000-${seq}`), entryFields([], message).map((part) => (typeof part === 'string' ? Buffer.from(part) : part))]
})

let remaining = 0
let unblock
const later = (value) => new Promise((resolve) => setImmediate(() => resolve(value)))
const connection = {
  ready: true,
  call(args) {
    switch (String(args[0])) {
      case 'XREADGROUP': {
        const count = Math.min(Number(args[5]), remaining)
        if (count === 0) return new Promise((resolve) => (unblock = () => resolve(null)))
        const first = total - remaining
        remaining -= count
        return later([[Buffer.from(String(args[9])), entries.slice(first, first + count)]])
      }
      case 'XACK':
      case 'XDEL':
        return later(args.length - 3)
      case 'CLIENT':
        if (String(args[1]) === 'UNBLOCK') unblock?.()
        return later(1)
      case 'EVALSHA':
        // The reclaim script (nothing to claim) or the delay mover (nothing due).
        return later(args.length > 9 ? ['0', []] : [0, ''])
      default:
        return later('OK')
    }
  },
  transaction: async (commands) => commands.map(() => 'OK'),
  onReady: () => () => {},
  close: async () => {},
  terminate() {},
}
const driver = { name: 'node-redis', open: async () => connection }
const stubAdapter = {
  ...adapter,
  connect: async (url, context) =>
    new RedisTransport(
      driver,
      connection,
      readSettings(url, context.options, context.hosts),
      { ...context.capabilities, maxMessageBytes: 1 << 20 },
      context.logger,
    ),
}
const mq = await connect('redis://stub:6379', { adapter: stubAdapter, logger: { debug() {}, info() {}, warn: console.warn, error: console.error } })

const perMessage = []
for (let round = 1; round <= rounds; round++) {
  remaining = total
  let seen = 0
  let done
  const finished = new Promise((resolve) => (done = resolve))
  globalThis.gc?.()
  const start = process.threadCpuUsage()
  const subscription = mq.queue(`q${round}`).consume(
    (message) => {
      if (message.body.run === run && ++seen === total) done()
    },
    { concurrency: 16 },
  )
  await finished
  const used = process.threadCpuUsage(start)
  await subscription.close()
  perMessage.push((used.user + used.system) / total)
}
await mq.close()
const warm = perMessage.slice(1).sort((a, b) => a - b)
console.log(
  `${bytes} B × ${total}, concurrency 16: main-thread CPU µs/msg per round ${perMessage.map((value) => value.toFixed(2)).join(' ')}; median after the first ${warm[Math.floor(warm.length / 2)]?.toFixed(2)}`,
)
