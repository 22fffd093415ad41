#!/usr/bin/env node
// Consume against a real Redis, anymq (the compiled adapter on node-redis, `queue.consume`, concurrency 16, JSON
// codec) and raw node-redis (the bench's raw client itself, bench/src/clients/redis-node-raw-client.ts: XREADGROUP
// COUNT ≤ 16, XACK + XDEL per turn) alternated round by round in one process; each round measured by
// measure-round.mjs (CPU of the main and the other threads, JS heap bytes allocated, scavenges, per message). Prints
// the medians of the rounds after the first.
// DRIVER=ioredis runs both sides on ioredis instead: anymq with `?driver=ioredis`, raw as the bench's raw ioredis
// client (bench/src/clients/redis-raw-client.ts: XREADGROUP COUNT ≤ 16, a pipeline of XACK + XDEL per turn).
// Build first (pnpm build and tsc -p bench/tsconfig.build.json, or `pnpm bench` once);
// REDIS_DIST=<dir>/ runs another build of the adapter on the anymq side; REDIS_DIST_B=<dir>/ adds a side `anymq-b` on
// that build, alternated with the others in the same process (an A/B of two builds less at the mercy of a busy machine).
// CPU_PROFILE=<file> writes a CPU profile of each side's last round (the drain alone, not the fill) to <file>.<side>.cpuprofile.
// HEAP_PROFILE=<file> writes a sampling allocation profile (collected objects included) of each side's last round
// to <file>.<side>.heapprofile (open it in Chrome's DevTools, or sum its self sizes per function).
//   ANYMQ_REDIS_URL=redis://… node bench/redis-consume-alloc.mjs [bytes=100] [messages=20000] [rounds=6] [sides=anymq,raw]
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describeMedians, describeRound, measureRound } from './measure-round.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = process.env.REDIS_DIST ?? join(root, 'packages/adapter-redis/dist/')
const { adapter } = await import(pathToFileURL(join(dist, 'index.js')).href)
const distB = process.env.REDIS_DIST_B
const adapterB = distB === undefined ? undefined : (await import(pathToFileURL(join(distB, 'index.js')).href)).adapter
const { entryFields } = await import(pathToFileURL(join(dist, 'redis-wire.js')).href)
const { connect } = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href)
const { createClient } = await import(pathToFileURL(join(root, 'bench/node_modules/@redis/client/dist/index.js')).href)
const { redisNodeRawClient } = await import(pathToFileURL(join(root, 'bench/dist/clients/redis-node-raw-client.js')).href)
const { redisRawClient } = await import(pathToFileURL(join(root, 'bench/dist/clients/redis-raw-client.js')).href)

const url = process.env.ANYMQ_REDIS_URL
if (!url) throw new Error('set ANYMQ_REDIS_URL (eval "$(bash scripts/brokers.sh env)")')
const ioredis = process.env.DRIVER === 'ioredis'
const bytes = Number(process.argv[2] ?? 100)
const total = Number(process.argv[3] ?? 20_000)
const rounds = Number(process.argv[4] ?? 6)
const sides = (process.argv[5] ?? (adapterB ? 'anymq,anymq-b,raw' : 'anymq,raw')).split(',')
const isAnymq = (side) => side.startsWith('anymq')
const run = 'abcdefgh'
const pad = 'x'.repeat(Math.max(0, bytes - 60))
const bodyOf = (seq) => JSON.stringify({ run, seq, sentAt: 1.5, pad })
const prefix = `alloc-${process.pid}`

const filler = createClient({ url })
await filler.connect()

/** Writes `total` entries as the side's producer would (anymq's packed layout, or `body` alone), untimed. */
async function fill(stream, side) {
  for (let first = 0; first < total; first += 500) {
    const pipeline = filler.multi()
    for (let seq = first; seq < Math.min(total, first + 500); seq++) {
      const message = { id: crypto.randomUUID(), body: Buffer.from(bodyOf(seq)), contentType: 'application/json', headers: {}, timestamp: Date.now() }
      pipeline.addCommand(isAnymq(side) ? entryFields(['XADD', stream, '*'], message) : ['XADD', stream, '*', 'body', bodyOf(seq)])
    }
    await pipeline.execAsPipeline()
  }
}

const anymqUrl = ioredis ? `${url}${url.includes('?') ? '&' : '?'}driver=ioredis` : url
const logger = { debug() {}, info() {}, warn: console.warn, error: console.error }
const mq = await connect(anymqUrl, { adapter, logger })
const mqB = adapterB === undefined ? undefined : await connect(anymqUrl, { adapter: adapterB, logger })

async function drainAnymq(stream, finished, side) {
  let seen = 0
  const subscription = (side === 'anymq-b' ? mqB : mq).queue(stream).consume(
    (message) => {
      if (message.body.run === run && ++seen === total) finished()
    },
    { concurrency: 16 },
  )
  await subscription.ready
  return () => subscription.close()
}

// The raw side is the bench's raw client, so this measures the loop `pnpm bench` times.
const rawClient = await (ioredis ? redisRawClient : redisNodeRawClient)(url)

async function drainRaw(stream, finished) {
  let seen = 0
  const running = await rawClient.consume(stream, 16, (body) => {
    if (body.run === run && ++seen === total) finished()
  })
  return () => running.close()
}

const results = Object.fromEntries(sides.map((side) => [side, []]))
for (let round = 1; round <= rounds; round++) {
  for (const side of sides) {
    const stream = `${prefix}-${side}-${round}`
    const key = isAnymq(side) ? `anymq:q:${stream}` : stream
    await fill(key, side)
    const heapProfile = process.env.HEAP_PROFILE !== undefined && round === rounds ? `${process.env.HEAP_PROFILE}.${side}.heapprofile` : undefined
    const cpuProfile = process.env.CPU_PROFILE !== undefined && round === rounds ? `${process.env.CPU_PROFILE}.${side}.cpuprofile` : undefined
    const profiler = cpuProfile === undefined ? undefined : new Session()
    if (profiler !== undefined) {
      profiler.connect()
      await profiler.post('Profiler.enable')
      await profiler.post('Profiler.setSamplingInterval', { interval: 50 })
      await profiler.post('Profiler.start')
    }
    const result = await measureRound(
      async () => {
        let done
        const finished = new Promise((resolve) => (done = resolve))
        const stop = await (isAnymq(side) ? drainAnymq : drainRaw)(stream, done, side)
        await finished
        return stop
      },
      total,
      heapProfile,
    )
    if (profiler !== undefined) {
      const { profile } = await profiler.post('Profiler.stop')
      writeFileSync(cpuProfile, JSON.stringify(profile))
      profiler.disconnect()
    }
    results[side].push(result)
    console.log(describeRound(round, side, result))
    await filler.del(key)
  }
}
for (const side of sides) console.log(describeMedians(`${side}${ioredis ? ' (ioredis)' : ''} ${bytes} B × ${total}`, results[side]))
await mq.close()
await mqB?.close()
await rawClient.close()
await filler.close()
