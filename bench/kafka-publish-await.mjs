#!/usr/bin/env node
// One side of the Kafka "publish, await each send" cell, alone in its process, for A/B runs and
// `node --cpu-prof`; the sides take the send path apart layer by layer:
//   node bench/kafka-publish-await.mjs SIDE [--messages 2000] [--bytes 1000] [--adapter-dist dist] [--broker-pid PID] [--profile FILE] [--warmup 200]
// SIDE:
//   raw      @platformatic/kafka `producer.send` of one record (idempotent, acks=all), as the bench's raw side
//   shaped   the same producer sending anymq's record shape: `x-anymq-id` and `x-anymq-content-type`
//            headers, the partition from the id's hash, the record timestamp set
//   driver   anymq's platformatic driver `send` called directly (no core, no publisher)
//   anymq    `queue.send` through the compiled core and adapter (`--adapter-dist` names another build
//            folder under packages/adapter-kafka, e.g. a copy of main's `dist`)
// Prints this process's CPU µs per send, the throughput and, with --broker-pid, the broker's CPU µs per
// send (utime + stime of /proc/PID/stat), after an untimed warm-up of 200 sends.
// Needs `pnpm build` and ANYMQ_KAFKA_URL (`scripts/brokers.sh env`).
import { randomUUID } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { bootstrapBrokers, createReadyTopic, kafkaUrl, platformaticKafka, repoRoot as root } from './kafka-side.mjs'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    messages: { type: 'string' },
    bytes: { type: 'string' },
    'adapter-dist': { type: 'string' },
    'broker-pid': { type: 'string' },
    profile: { type: 'string' },
    warmup: { type: 'string' },
  },
})
const side = positionals[0]
const sides = ['raw', 'shaped', 'driver', 'anymq']
if (!sides.includes(side)) throw new Error(`side must be one of ${sides.join(', ')}, not ${side}`)
const messages = Number(values.messages ?? 2000)
const bytes = Number(values.bytes ?? 1000)
const url = kafkaUrl()
const brokers = bootstrapBrokers(url)
const dist = values['adapter-dist'] ?? 'dist'
const adapterRoot = join(root, 'packages', 'adapter-kafka')
const { Admin, Producer } = await platformaticKafka()

const body = (seq) => ({ seq, pad: 'x'.repeat(Math.max(0, bytes - 20)) })
const topic = `publish-await-${side}-${process.pid}`
const admin = new Admin({ clientId: 'publish-await-admin', bootstrapBrokers: brokers })
await createReadyTopic(admin, topic)

let send
let closeClient = async () => {}
if (side === 'raw' || side === 'shaped') {
  const producer = new Producer({ clientId: 'publish-await', bootstrapBrokers: brokers, idempotent: true, acks: -1, autocreateTopics: false })
  const prefix = randomUUID().slice(0, 24)
  let counter = 0
  const { unkeyedPartitionHashOfBytes } = await import(pathToFileURL(join(adapterRoot, dist, 'kafka-unkeyed-partition.js')).href)
  const idName = Buffer.from('x-anymq-id')
  const typeName = Buffer.from('x-anymq-content-type')
  const typeValue = Buffer.from('application/json')
  send =
    side === 'raw'
      ? (value) => producer.send({ messages: [{ topic, value: Buffer.from(JSON.stringify(value)) }] })
      : (value) => {
          const id = Buffer.from(prefix + (counter++).toString(36).padStart(12, '0'))
          const headers = new Map([
            [idName, id],
            [typeName, typeValue],
          ])
          const message = {
            topic,
            partition: unkeyedPartitionHashOfBytes(id),
            value: Buffer.from(JSON.stringify(value)),
            headers,
            timestamp: BigInt(Date.now()),
          }
          return producer.send({ messages: [message] })
        }
  closeClient = () => producer.close()
} else if (side === 'driver') {
  const { createDriver } = await import(pathToFileURL(join(adapterRoot, dist, 'kafka-adapter.js')).href)
  const { resolveSettings } = await import(pathToFileURL(join(adapterRoot, dist, 'kafka-config.js')).href)
  const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent }
  const driver = await createDriver(resolveSettings(new URL(url), undefined, {}), silent)
  await driver.connect()
  let counter = 0
  const prefix = randomUUID().slice(0, 24)
  send = (value) =>
    driver.send([
      {
        topic,
        records: [
          {
            key: undefined,
            value: Buffer.from(JSON.stringify(value)),
            headers: { 'x-anymq-id': prefix + (counter++).toString(36).padStart(12, '0'), 'x-anymq-content-type': 'application/json' },
            timestamp: Date.now(),
          },
        ],
      },
    ])
  closeClient = () => driver.close()
} else {
  const { connect } = await import(pathToFileURL(join(root, 'packages', 'core', 'dist', 'index.js')).href)
  const { adapter } = await import(pathToFileURL(join(adapterRoot, dist, 'index.js')).href)
  const client = await connect(url, { adapter })
  const handle = client.queue(topic)
  send = (value) => handle.send(value)
  closeClient = () => client.close()
}

const brokerPid = values['broker-pid']
/** utime + stime of the broker process, in µs (clock ticks of 10 ms). */
const brokerCpu = () => {
  if (!brokerPid) return 0
  const fields = readFileSync(`/proc/${brokerPid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10_000
}

const warmup = Number(values.warmup ?? 200)
for (let seq = 0; seq < warmup; seq++) await send(body(seq))
// --profile FILE: a CPU profile of the timed sends alone (not of loading and connecting).
const session = values.profile ? new (await import('node:inspector/promises')).Session() : undefined
if (session) {
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
}
const broker = brokerCpu()
const cpu = process.cpuUsage()
const start = performance.now()
for (let seq = 0; seq < messages; seq++) await send(body(seq))
const used = process.cpuUsage(cpu)
const seconds = (performance.now() - start) / 1000
const brokerUsed = brokerCpu() - broker
if (session) {
  const { profile } = await session.post('Profiler.stop')
  writeFileSync(values.profile, JSON.stringify(profile))
  session.disconnect()
}
const label = values['adapter-dist'] && side !== 'raw' && side !== 'shaped' ? `${side} (${dist})` : side
console.log(
  `${label}, ${bytes} B: ${((used.user + used.system) / messages).toFixed(1)} µs/send CPU, ${(messages / seconds).toFixed(0)} sends/s` +
    (brokerPid ? `, broker ${(brokerUsed / messages).toFixed(1)} µs/send` : ''),
)
await closeClient()
await admin.deleteTopics({ topics: [topic] }).catch(() => {})
await admin.close()
