#!/usr/bin/env node
// One send per message, 64 in flight, on ioredis (or node-redis with --driver node-redis): anymq (`queue.send` on the
// compiled adapter, `?driver=…`) and the bench's raw client of the same library, alternated round by round in one process. Per round: msg/s, this process's CPU µs per
// message, Redis' CPU µs per message (`INFO cpu`) and commands per socket read Redis made (`INFO stats`): how many
// sends reach Redis together. A client that writes a whole window at once keeps Redis idle while it makes the window.
// Build first (`pnpm bench` does; or `pnpm build` and `tsc -p bench/tsconfig.build.json`). Flush a Redis used for
// other benchmarks first: a Redis holding a gigabyte of old streams ran these rounds at half the rate.
//   ANYMQ_REDIS_URL=redis://… node bench/redis-publish-window.mjs [bytes=100] [messages=30000] [rounds=12] [--driver node-redis]
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const driverIndex = process.argv.indexOf('--driver')
const driver = driverIndex >= 0 ? process.argv[driverIndex + 1] : 'ioredis'
const positional = process.argv.slice(2).filter((_, index, all) => all[index] !== '--driver' && all[index - 1] !== '--driver')
const bytes = Number(positional[0] ?? 100)
const total = Number(positional[1] ?? 30000)
const rounds = Number(positional[2] ?? 12)
const url = process.env.ANYMQ_REDIS_URL
if (!url) throw new Error('set ANYMQ_REDIS_URL (eval "$(bash scripts/brokers.sh env)")')

const Redis = createRequire(join(root, 'packages/adapter-redis/package.json'))('ioredis')
const { adapter } = await import(pathToFileURL(join(root, 'packages/adapter-redis/dist/index.js')).href)
const { connect } = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href)
const rawClient =
  driver === 'node-redis'
    ? (await import(pathToFileURL(join(root, 'bench/dist/clients/redis-node-raw-client.js')).href)).redisNodeRawClient
    : (await import(pathToFileURL(join(root, 'bench/dist/clients/redis-raw-client.js')).href)).redisRawClient

const quiet = { debug() {}, info() {}, warn: console.warn, error: console.error }
const mq = await connect(`${url}${url.includes('?') ? '&' : '?'}driver=${driver}`, { adapter, logger: quiet })
const raw = await rawClient(url)
const admin = new Redis(url)

async function redisCounters() {
  const info = (await admin.info('stats')) + (await admin.info('cpu'))
  const read = (name) => Number(info.match(new RegExp(`${name}:([\\d.]+)`))?.[1])
  return { commands: read('total_commands_processed'), reads: read('total_reads_processed'), cpu: read('used_cpu_sys') + read('used_cpu_user') }
}

const body = { seq: 0, pad: 'x'.repeat(Math.max(0, bytes - 20)) }
async function round(send) {
  let next = 0
  const before = await redisCounters()
  const started = process.hrtime.bigint()
  const cpu = process.cpuUsage()
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < total) await send({ ...body, seq: ++next })
    }),
  )
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const used = process.cpuUsage(cpu)
  const after = await redisCounters()
  return {
    rate: total / seconds,
    client: (used.user + used.system) / total,
    redis: ((after.cpu - before.cpu) * 1e6) / total,
    perRead: (after.commands - before.commands) / (after.reads - before.reads),
  }
}

const queue = mq.queue(`publish-window-${process.pid}`)
const stream = `publish-window-raw-${process.pid}`
const sides = { anymq: (message) => queue.send(message), raw: (message) => raw.send(stream, message) }
const results = { anymq: [], raw: [] }
for (let index = 0; index < rounds; index++) {
  for (const side of index % 2 === 0 ? ['anymq', 'raw'] : ['raw', 'anymq']) {
    const result = await round(sides[side])
    if (index > 0) results[side].push(result)
  }
}
const median = (values) => values.sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)]
for (const [side, list] of Object.entries(results)) {
  const pick = (field) => median(list.map((result) => result[field]))
  console.log(
    `${side.padEnd(5)} ${bytes} B, median of ${list.length} rounds: ${Math.round(pick('rate'))} msg/s, client ${pick('client').toFixed(1)} µs/msg, Redis ${pick('redis').toFixed(1)} µs/msg, ${pick('perRead').toFixed(1)} commands per Redis read`,
  )
}
await queue.delete().catch(() => {})
await admin.del(stream)
await mq.close()
await raw.close()
admin.disconnect()
