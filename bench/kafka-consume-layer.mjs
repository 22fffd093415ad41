#!/usr/bin/env node
// anymq's own Kafka consume layer, in this process, with no broker and no socket: records shaped as
// @platformatic/kafka's stream emits them (a 36-byte `x-anymq-id` header, runs of 1,000 per partition, a new
// offset each time round) are emitted as 'data' to the compiled PlatformaticConsumer, which hands them through
// KafkaConsumer and core's ConsumerEngine to the bench's handler (JSON body, a sequence number read), at
// concurrency 16 and auto ack. Each stage adds one part of the layer, so the differences say what each costs:
//   emit     the harness alone: the record emitted, its offset made (subtract it from the others)
//   raw      the handler's own work on the library's record: JSON.parse(String(value)), as the raw bench client
//   driver   the driver's conversion (onData, toRecord, the header texts); each record resolved at once, nothing more
//   adapter  + KafkaConsumer: partition checks, the delivery, offset tracking, the synchronous settle (no core)
//   engine   + core's engine with the raw codec: sequencer, ReceivedMessage, ack (no JSON)
//   anymq    the whole layer with the JSON codec and the bench's handler
// Prints the CPU ns per record of each of 7 timed rounds (sorted) and their median, after a warm-up. Steadier
// than the broker cell (±5 % here against ±15 %), but it reaches into the compiled classes' private fields to
// stand in for the group join: a build that renames them fails here first, loudly.
//   node bench/kafka-consume-layer.mjs emit|raw|driver|adapter|engine|anymq [--records 150000] [--bytes 1000] [--root DIR]
import { randomUUID } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { repoRoot } from './kafka-side.mjs'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { records: { type: 'string' }, bytes: { type: 'string' }, root: { type: 'string' } },
})
const stage = positionals[0] ?? 'anymq'
const stages = ['emit', 'raw', 'driver', 'adapter', 'engine', 'anymq']
if (!stages.includes(stage)) throw new Error(`stage must be one of ${stages.join(', ')}, not ${stage}`)
const records = Number(values.records ?? 150_000)
const bytes = Number(values.bytes ?? 1000)
const root = resolve(values.root ?? repoRoot)
const load = (...path) => import(pathToFileURL(join(root, 'packages', ...path)).href)

const { ConsumerEngine } = await load('core', 'dist', 'consumer-engine.js')
const { jsonCodec, rawCodec } = await load('core', 'dist', 'codec.js')
const { createRetryPolicy } = await load('core', 'dist', 'retry-policy.js')
const { KafkaConsumer } = await load('adapter-kafka', 'dist', 'kafka-consumer.js')
const { PlatformaticConsumer } = await load('adapter-kafka', 'dist', 'kafka-platformatic-consumer.js')
const { resolveSettings } = await load('adapter-kafka', 'dist', 'kafka-config.js')

const topic = 'layer'
const perPartition = 1000
const silent = { debug() {}, info() {}, warn() {}, error() {} }
let seen = 0
let member
const driver = {
  consumer: (options) => {
    member = new PlatformaticConsumer(resolveSettings(new URL('kafka://127.0.0.1:1'), undefined, {}), silent, options, () => {})
    return member
  },
}
const engine = new ConsumerEngine({
  transport: {
    consume: async (_source, options, accept) =>
      new KafkaConsumer(
        { driver, logger: silent, connectionState: { working() {}, failed() {} }, republish: async () => {} },
        { groupId: 'layer', mainTopic: topic, retryTopic: `${topic}.retry`, fromBeginning: true, filter: undefined, commits: true },
        options,
        accept,
      ),
  },
  adapter: 'kafka',
  capabilities: {},
  logger: silent,
  source: { kind: 'queue' },
  sourceLabel: `queue '${topic}'`,
  codec: stage === 'engine' ? rawCodec : jsonCodec,
  schema: undefined,
  retry: createRetryPolicy(undefined),
  deadLetter: `${topic}.dlq`,
  concurrency: 16,
  prefetch: 32,
  ack: 'auto',
  leaseMs: undefined,
  handler:
    stage === 'engine'
      ? (message) => {
          if (message.body.length > 0) seen++
        }
      : (message) => {
          if (message.body.seq >= 0) seen++
        },
  onError: (error) => {
    throw error
  },
})
await engine.start()

// What the group join would have done: the consumer owns the topic's three partitions, the stream flows.
const consumer = engine.consumer
consumer.onAssigned(new Map([[topic, [0, 1, 2]]]))
consumer.scheduleCommit = () => {}
const stream = new EventEmitter()
stream.unshift = () => {}
Object.assign(member, { stream, flowing: true, assignedAtJoin: { get: () => 0 }, consumer: { generationId: 1 } })
if (stage === 'driver') {
  const settled = Promise.resolve()
  member.options.onBatch = (batch) => {
    const record = batch.records[0]
    batch.resolve(record.offset)
    if (record.body.length > 0) seen++
    return settled
  }
}
if (stage === 'adapter') {
  consumer.deliver = (delivery) => {
    seen++
    delivery.ackNow()
  }
}
const handleRaw = (message) => {
  if (JSON.parse(String(message.value)).seq >= 0) seen++
}
const countOnly = () => {
  seen++
}
stream.on('data', stage === 'emit' ? countOnly : stage === 'raw' ? handleRaw : (message) => member.onData(stream, message))

const pad = 'x'.repeat(Math.max(0, bytes - 40))
const idName = Buffer.from('x-anymq-id')
const pool = Array.from({ length: 3 * perPartition }, (_, index) => {
  const id = Buffer.from(randomUUID())
  return {
    key: undefined,
    value: Buffer.from(JSON.stringify({ run: 1, seq: index, pad })),
    headers: new Map([[idName, id]]),
    headerEntries: [[Buffer.from(idName), id]],
    topic,
    partition: Math.floor(index / perPartition),
    offset: 0n,
    timestamp: BigInt(Date.now()),
  }
})
let base = 0
function round() {
  for (let index = 0; index < pool.length; index++) {
    const message = pool[index]
    message.offset = BigInt(base + (index % perPartition))
    stream.emit('data', message)
  }
  base += perPartition
}

for (let warm = 0; warm < 30; warm++) round()
const rounds = Math.max(1, Math.round(records / pool.length))
const timed = []
for (let run = 0; run < 7; run++) {
  seen = 0
  const cpu = process.cpuUsage()
  for (let index = 0; index < rounds; index++) round()
  const used = process.cpuUsage(cpu)
  if (seen !== rounds * pool.length) throw new Error(`${stage}: ${seen} of ${rounds * pool.length} records reached the handler`)
  timed.push(Math.round(((used.user + used.system) * 1000) / (rounds * pool.length)))
}
timed.sort((a, b) => a - b)
console.log(`${stage}: ${bytes} B, c16, ${rounds * pool.length} records per run: median ${timed[3]} ns CPU per record (${timed.join(' ')})`)
// Not closed: the stand-in for the group join has no connection to leave.
process.exit(0)
