#!/usr/bin/env node
// sendBatch against a real Redis, anymq (the compiled adapter on node-redis, `queue.sendBatch`, JSON codec) and raw
// node-redis (the bench's raw client: a pipeline of XADDs with the body as its one field), alternated round by round
// in one process. Per round and side: main-thread CPU, the CPU of the other threads, JS heap bytes allocated and
// scavenges, all per message; medians of the rounds after the first of each side. Build first; REDIS_DIST=<dir>/
// runs another build of the adapter on the anymq side.
//   ANYMQ_REDIS_URL=redis://… node --expose-gc bench/redis-send-batch-alloc.mjs [bytes=100] [batches=200] [rounds=6] [sides=anymq,raw]
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import v8 from 'node:v8'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = process.env.REDIS_DIST ?? join(root, 'packages/adapter-redis/dist/')
const { adapter } = await import(pathToFileURL(join(dist, 'index.js')).href)
const { connect } = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href)
const { createClient } = await import(pathToFileURL(join(root, 'bench/node_modules/@redis/client/dist/index.js')).href)

const url = process.env.ANYMQ_REDIS_URL
if (!url) throw new Error('set ANYMQ_REDIS_URL (eval "$(bash scripts/brokers.sh env)")')
const bytes = Number(process.argv[2] ?? 100)
const batches = Number(process.argv[3] ?? 200)
const rounds = Number(process.argv[4] ?? 6)
const sides = (process.argv[5] ?? 'anymq,raw').split(',')
const batchSize = 100
const total = batches * batchSize
const pad = 'x'.repeat(Math.max(0, bytes - 60))
const prefix = `batch-${process.pid}`

const mq = await connect(url, { adapter, logger: { debug() {}, info() {}, warn: console.warn, error: console.error } })
const raw = createClient({ url })
await raw.connect()

async function sendAnymq(stream) {
  const queue = mq.queue(stream)
  for (let batch = 0; batch < batches; batch++) {
    const bodies = []
    for (let seq = 0; seq < batchSize; seq++) bodies.push({ run: 'abcdefgh', seq: batch * batchSize + seq, sentAt: Date.now(), pad })
    await queue.sendBatch(bodies)
  }
}

async function sendRaw(stream) {
  for (let batch = 0; batch < batches; batch++) {
    const pipeline = raw.multi()
    for (let seq = 0; seq < batchSize; seq++) {
      pipeline.xAdd(stream, '*', { body: JSON.stringify({ run: 'abcdefgh', seq: batch * batchSize + seq, sentAt: Date.now(), pad }) })
    }
    await pipeline.execAsPipeline()
  }
}

const results = Object.fromEntries(sides.map((side) => [side, []]))
for (let round = 1; round <= rounds; round++) {
  for (const side of sides) {
    const stream = `${prefix}-${side}-${round}`
    globalThis.gc?.()
    const profiler = new v8.GCProfiler()
    profiler.start()
    const usedAtStart = v8.getHeapStatistics().used_heap_size
    const mainStart = process.threadCpuUsage()
    const processStart = process.cpuUsage()
    await (side === 'anymq' ? sendAnymq : sendRaw)(stream)
    const main = process.threadCpuUsage(mainStart)
    const all = process.cpuUsage(processStart)
    const usedAtEnd = v8.getHeapStatistics().used_heap_size
    const { statistics } = profiler.stop()
    let allocated = 0
    let previous = usedAtStart
    let scavenges = 0
    for (const gc of statistics) {
      allocated += gc.beforeGC.heapStatistics.usedHeapSize - previous
      previous = gc.afterGC.heapStatistics.usedHeapSize
      if (gc.gcType === 'Scavenge') scavenges++
    }
    allocated += usedAtEnd - previous
    const mainUs = (main.user + main.system) / total
    const otherUs = (all.user + all.system - main.user - main.system) / total
    results[side].push({ mainUs, otherUs, bytes: allocated / total, scavenges })
    console.log(
      `round ${round} ${side.padEnd(5)} main ${mainUs.toFixed(2)} µs/msg, other threads ${otherUs.toFixed(2)} µs/msg, ${(allocated / total).toFixed(0)} B/msg allocated, ${scavenges} scavenges`,
    )
    await raw.del(side === 'anymq' ? `anymq:q:${stream}` : stream)
  }
}
const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]
for (const side of sides) {
  const warm = results[side].slice(1)
  console.log(
    `${side} sendBatch ${batchSize} × ${bytes} B, ${batches} batches: median after the first round: main ${median(warm.map((r) => r.mainUs)).toFixed(2)} µs/msg, other threads ${median(warm.map((r) => r.otherUs)).toFixed(2)} µs/msg, ${median(warm.map((r) => r.bytes)).toFixed(0)} B/msg, ${median(warm.map((r) => r.scavenges))} scavenges`,
  )
}
await mq.close()
await raw.close()
