#!/usr/bin/env node
// One side of the Kafka "consume (pre-filled)" cell, alone in its process, for A/B runs of two builds
// and `node --cpu-prof`: each run fills a fresh 3-partition topic with the side's own `sendBatch` (untimed),
// then times a consumer with `--concurrency` handlers draining it, from attached to the last record.
//   node bench/kafka-consume.mjs anymq|raw [--messages 20000] [--bytes 1000] [--concurrency 16] [--runs 3]
//        [--root DIR] [--bench-dist DIR] [--profile FILE | --heap-profile FILE] [--id-header]
// anymq: the compiled core and adapter of DIR (default: this checkout; e.g. a copy of main built elsewhere,
//        with packages/core/dist and packages/adapter-kafka/dist) through the bench's anymq client;
// raw:   the bench's raw @platformatic/kafka client (bench/dist, `pnpm bench` or `tsc -p bench/tsconfig.build.json`;
//        --bench-dist: another build of it). --id-header: the raw side fills its topics with one 36-byte
//        `x-anymq-id` header per record, as anymq's records carry on the wire: the library's own parsing of
//        that header costs ~1 KB of heap per record (raw, 100 B: ~1,950 → ~2,800 B/record), which the
//        headerless raw side does not pay.
// Both sides get the bench's handler shape (JSON decoded, a sequence number recorded). Prints, per run,
// this process's CPU µs per record, JS heap bytes allocated per record (steadier than CPU under load),
// the bytes scavenges promoted to the old space per record (records kept alive across collections), the
// GC pauses' µs per record (V8's GCProfiler `cost`: wall time, inflated by load) and the rate; runs after
// the first are warm. --profile FILE: a CPU profile of the last run's timed part; --heap-profile FILE: a
// sampling allocation profile of it instead. Needs ANYMQ_KAFKA_URL (`scripts/brokers.sh env`).
import { writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import v8 from 'node:v8'
import { bootstrapBrokers, repoRoot as here, kafkaUrl, platformaticKafka } from './kafka-side.mjs'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    messages: { type: 'string' },
    bytes: { type: 'string' },
    concurrency: { type: 'string' },
    runs: { type: 'string' },
    root: { type: 'string' },
    'bench-dist': { type: 'string' },
    profile: { type: 'string' },
    'heap-profile': { type: 'string' },
    'id-header': { type: 'boolean' },
  },
})
const side = positionals[0]
if (side !== 'anymq' && side !== 'raw') throw new Error(`side must be anymq or raw, not ${side}`)
const messages = Number(values.messages ?? 20_000)
const bytes = Number(values.bytes ?? 1000)
const concurrency = Number(values.concurrency ?? 16)
const runs = Number(values.runs ?? 3)
const root = resolve(values.root ?? here)
const url = kafkaUrl()
const load = (path) => import(pathToFileURL(path).href)

let client
if (side === 'raw') {
  const { kafkaPlatformaticRawClient } = await load(
    join(resolve(values['bench-dist'] ?? join(here, 'bench', 'dist')), 'clients', 'kafka-platformatic-raw-client.js'),
  )
  client = await kafkaPlatformaticRawClient(url)
  if (values['id-header']) {
    const { Producer } = await platformaticKafka(here)
    const { randomUUID } = await import('node:crypto')
    const producer = new Producer({
      clientId: 'kafka-consume-id-header',
      bootstrapBrokers: bootstrapBrokers(url),
      idempotent: true,
      acks: -1,
      autocreateTopics: false,
    })
    const name = Buffer.from('x-anymq-id')
    client.sendBatch = (topic, bodies) =>
      producer.send({
        messages: bodies.map((body) => ({ topic, value: Buffer.from(JSON.stringify(body)), headers: new Map([[name, Buffer.from(randomUUID())]]) })),
      })
    const close = client.close
    client.close = async () => {
      await close()
      await producer.close()
    }
  }
} else {
  const { connect } = await load(join(root, 'packages', 'core', 'dist', 'index.js'))
  const { adapter } = await load(join(root, 'packages', 'adapter-kafka', 'dist', 'index.js'))
  const driverUrl = url.includes('driver=') ? url : `${url}${url.includes('?') ? '&' : '?'}driver=platformatic`
  const mq = await connect(driverUrl, { adapter })
  client = {
    prepare: (queue, body) => mq.queue(queue).send(body),
    sendBatch: (queue, bodies) => mq.queue(queue).sendBatch(bodies),
    async consume(queue, concurrency, handle) {
      const subscription = mq.queue(queue).consume((message) => handle(message.body), { concurrency })
      await subscription.ready
      return subscription
    },
    close: () => mq.close(),
  }
}
const { Admin } = await platformaticKafka(here)
const admin = new Admin({ clientId: 'kafka-consume-admin', bootstrapBrokers: bootstrapBrokers(url) })

const pad = 'x'.repeat(Math.max(0, bytes - 40))
const topics = []
for (let run = 1; run <= runs; run++) {
  const queue = `consume-${side}-${process.pid}-${run}`
  topics.push(queue)
  await client.prepare(queue, { run, seq: -1, pad })
  for (let first = 0; first < messages; first += 400) {
    const calls = []
    for (let at = first; at < Math.min(messages, first + 400); at += 100) {
      calls.push(
        client.sendBatch(
          queue,
          Array.from({ length: Math.min(100, messages - at) }, (_, index) => ({ run, seq: at + index, pad })),
        ),
      )
    }
    await Promise.all(calls)
  }
  const seen = new Uint8Array(messages)
  let unique = 0
  let finish
  let firstCpu
  const done = new Promise((resolve) => {
    finish = resolve
  })
  const handle = (body) => {
    if (body.run !== run || body.seq < 0 || seen[body.seq]) return
    seen[body.seq] = 1
    firstCpu ??= process.cpuUsage()
    if (++unique === messages) finish(process.cpuUsage())
  }
  const profiling = (values.profile || values['heap-profile']) && run === runs ? new (await import('node:inspector/promises')).Session() : undefined
  if (profiling) {
    profiling.connect()
    if (values.profile) {
      await profiling.post('Profiler.enable')
      await profiling.post('Profiler.start')
    } else {
      const collected = { includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }
      await profiling.post('HeapProfiler.startSampling', { samplingInterval: 1024, ...collected })
    }
  }
  const profiler = new v8.GCProfiler()
  profiler.start()
  const usedAtStart = v8.getHeapStatistics().used_heap_size
  const running = await client.consume(queue, concurrency, handle)
  // Timed from attached, or from the first record when one came before attaching returned (as the bench).
  const cpu = firstCpu ?? process.cpuUsage()
  const start = performance.now()
  const end = await done
  const seconds = (performance.now() - start) / 1000
  const usedAtEnd = v8.getHeapStatistics().used_heap_size
  // Bytes allocated on the JS heap (group join included, the same on both sides): what each collection
  // found used less what the previous one left. Steadier under load than CPU time.
  let allocated = 0
  let previous = usedAtStart
  let gcUs = 0
  let promoted = 0
  for (const gc of profiler.stop().statistics) {
    allocated += gc.beforeGC.heapStatistics.usedHeapSize - previous
    previous = gc.afterGC.heapStatistics.usedHeapSize
    gcUs += gc.cost
    if (gc.gcType === 'Scavenge')
      promoted +=
        gc.afterGC.heapSpaceStatistics.find((space) => space.spaceName === 'old_space').spaceUsedSize -
        gc.beforeGC.heapSpaceStatistics.find((space) => space.spaceName === 'old_space').spaceUsedSize
  }
  allocated += usedAtEnd - previous
  if (profiling) {
    const { profile } = await profiling.post(values.profile ? 'Profiler.stop' : 'HeapProfiler.stopSampling')
    writeFileSync(values.profile ?? values['heap-profile'], JSON.stringify(profile))
    profiling.disconnect()
  }
  await running.close()
  const used = end.user - cpu.user + end.system - cpu.system
  console.log(
    `${side}${values['id-header'] ? ' (id header)' : ''}${values.root ? ` (${values.root})` : ''} run ${run}: ${messages} × ${bytes} B, c${concurrency}: ${(used / messages).toFixed(2)} µs/record CPU, ${(allocated / messages).toFixed(0)} B/record allocated (${(promoted / messages).toFixed(0)} B promoted by scavenges), GC ${(gcUs / messages).toFixed(2)} µs/record, ${(messages / seconds).toFixed(0)} records/s`,
  )
}
await client.close()
await admin.deleteTopics({ topics }).catch(() => {})
await admin.close()
