#!/usr/bin/env node
// One side of the Kafka "publish, sendBatch of 100" cell, alone in its process, for A/B runs and
// CPU or allocation profiles: batches of 100 bodies, 4 calls in flight, as the bench's workload.
//   node bench/kafka-send-batch.mjs SIDE [--messages 20000] [--bytes 1000] [--adapter-dist dist] [--stub] [--profile FILE | --heap-profile FILE] [--warmup 5000]
// SIDE:
//   raw      @platformatic/kafka `producer.send` of each batch (idempotent, acks=all), as the bench's raw side
//   shaped   the same producer sending anymq's record shape: `x-anymq-id` and `x-anymq-content-type`
//            headers (names and content type encoded once), the partition from the id's hash, the timestamp set
//   anymq    `queue.sendBatch` through the compiled core and adapter (`--adapter-dist` names another build
//            folder under packages/adapter-kafka, e.g. a copy of main's `dist`)
// --stub replaces the library's `Producer.prototype.send` with one that resolves at once: what is left
// is each side's own CPU per record (for anymq: core, adapter and driver, none of the library's encoding).
// Prints this process's CPU µs per record, the JS heap bytes allocated per record (steadier than CPU
// under load) and the throughput, after an untimed warm-up; --heap-profile FILE: a sampling allocation
// profile of the timed part.
// Needs `pnpm build` and ANYMQ_KAFKA_URL (`scripts/brokers.sh env`).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { bootstrapBrokers, createReadyTopic, kafkaUrl, platformaticKafka, repoRoot as root } from './kafka-side.mjs'
import { measureRound } from './measure-round.mjs'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    messages: { type: 'string' },
    bytes: { type: 'string' },
    'adapter-dist': { type: 'string' },
    profile: { type: 'string' },
    'heap-profile': { type: 'string' },
    warmup: { type: 'string' },
    stub: { type: 'boolean' },
  },
})
const side = positionals[0]
const sides = ['raw', 'shaped', 'anymq']
if (!sides.includes(side)) throw new Error(`side must be one of ${sides.join(', ')}, not ${side}`)
const messages = Number(values.messages ?? 20_000)
const bytes = Number(values.bytes ?? 1000)
const batch = 100
const window = 4
const url = kafkaUrl()
const brokers = bootstrapBrokers(url)
const dist = values['adapter-dist'] ?? 'dist'
const adapterRoot = join(root, 'packages', 'adapter-kafka')
const { Admin, Producer } = await platformaticKafka()

// The bench's body: a sequence number, run id and padding to `bytes` of JSON.
const body = (seq) => ({ run: 'send-batch', seq, sentAt: Date.now(), pad: 'x'.repeat(Math.max(0, bytes - 60)) })
const topic = `send-batch-${side}-${process.pid}`
const admin = new Admin({ clientId: 'send-batch-admin', bootstrapBrokers: brokers })
await createReadyTopic(admin, topic)

let sendBatch
let closeClient = async () => {}
if (side === 'raw') {
  const producer = new Producer({ clientId: 'send-batch', bootstrapBrokers: brokers, idempotent: true, acks: -1, autocreateTopics: false })
  sendBatch = (bodies) => producer.send({ messages: bodies.map((value) => ({ topic, value: Buffer.from(JSON.stringify(value)) })) })
  closeClient = () => producer.close()
} else if (side === 'shaped') {
  const producer = new Producer({ clientId: 'send-batch', bootstrapBrokers: brokers, idempotent: true, acks: -1, autocreateTopics: false })
  const { unkeyedPartitionHashOfBytes } = await import(pathToFileURL(join(adapterRoot, dist, 'kafka-unkeyed-partition.js')).href)
  const { randomUUID } = await import('node:crypto')
  const prefix = randomUUID().slice(0, 33)
  let counter = 0
  const idName = Buffer.from('x-anymq-id')
  const typeName = Buffer.from('x-anymq-content-type')
  const typeValue = Buffer.from('application/json')
  sendBatch = (bodies) => {
    const timestamp = BigInt(Date.now())
    return producer.send({
      messages: bodies.map((value) => {
        const id = Buffer.from(prefix + (counter++ & 4095).toString(16).padStart(3, '0'))
        return {
          topic,
          partition: unkeyedPartitionHashOfBytes(id),
          value: Buffer.from(JSON.stringify(value)),
          headers: new Map([
            [idName, id],
            [typeName, typeValue],
          ]),
          timestamp,
        }
      }),
    })
  }
  closeClient = () => producer.close()
} else {
  const { connect } = await import(pathToFileURL(join(root, 'packages', 'core', 'dist', 'index.js')).href)
  const { adapter } = await import(pathToFileURL(join(adapterRoot, dist, 'index.js')).href)
  const client = await connect(url, { adapter })
  const handle = client.queue(topic)
  await handle.send(body(-1))
  sendBatch = (bodies) => handle.sendBatch(bodies)
  closeClient = () => client.close()
}
if (values.stub) {
  // After the first real send (the producer is connected): from here nothing reaches the broker.
  Producer.prototype.send = function stubbedSend(_options, callback) {
    if (callback) return void queueMicrotask(() => callback(null, {}))
    return Promise.resolve({})
  }
}

/** `total` records in calls of `batch`, `window` calls in flight. */
async function run(total) {
  let next = 0
  const worker = async () => {
    while (next < total) {
      const first = next
      const count = Math.min(batch, total - first)
      next += count
      await sendBatch(Array.from({ length: count }, (_, index) => body(first + index)))
    }
  }
  await Promise.all(Array.from({ length: window }, worker))
}

await run(Number(values.warmup ?? 5000))
const session = values.profile ? new (await import('node:inspector/promises')).Session() : undefined
if (session) {
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
}
const measured = await measureRound(() => run(messages), messages, values['heap-profile'])
if (session) {
  const { profile } = await session.post('Profiler.stop')
  writeFileSync(values.profile, JSON.stringify(profile))
  session.disconnect()
}
const label = values['adapter-dist'] && side === 'anymq' ? `${side} (${dist})` : side
console.log(
  `${label}${values.stub ? ' stubbed' : ''}, ${bytes} B: ${(measured.mainUs + measured.otherUs).toFixed(2)} µs/record CPU, ${measured.bytes.toFixed(0)} B/record allocated, ${measured.perSecond.toFixed(0)} records/s`,
)
await closeClient()
await admin.deleteTopics({ topics: [topic] }).catch(() => {})
await admin.close()
