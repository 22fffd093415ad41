#!/usr/bin/env node
// What RabbitMQ itself spends per message, by message shape: the CPU time of the broker's beam process
// (utime + stime from /proc/<pid>/stat, 10 ms ticks) around each round, beside the client's own CPU.
// Rounds alternate the shapes, so a busy machine shifts all of them alike; medians are printed.
//   node bench/rabbitmq-broker-cpu.mjs publish [--messages 20000] [--rounds 8] [--bytes 100]
//   node bench/rabbitmq-broker-cpu.mjs consume [--messages 10000] [--rounds 6] [--bytes 1000]
//   --shapes plain,id+timestamp,…   only these shapes (publish), so more rounds fit in the same time
//   --reductions   also count the Erlang reductions (units of work the VM schedules by) of the broker's
//                  channel, queue, reader and writer processes per message, through `rabbitmqctl eval` around
//                  each round: they do not move with the machine's load, so a difference of a few per cent
//                  shows in 2-3 rounds where the CPU ticks above need tens (adds ~3 s per round)
// publish: sendBatch(100) on a confirm channel, persistent, to a durable classic queue, by raw amqplib with
// several property sets and by anymq with both `timestampPrecision` settings. consume: a raw amqplib
// consumer (prefetch 16, one ack per message) on messages published plain or with anymq's properties.
// Needs the compiled packages (`pnpm build`, or one `pnpm bench` run), a RabbitMQ from scripts/brokers.sh
// (its pid is read from .brokers/rabbitmq/rabbitmq.pid) and ANYMQ_RABBITMQ_URL (`scripts/brokers.sh env`).
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const amqp = createRequire(join(root, 'bench', 'package.json'))('amqplib')
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    messages: { type: 'string' },
    rounds: { type: 'string' },
    bytes: { type: 'string' },
    shapes: { type: 'string' },
    reductions: { type: 'boolean' },
  },
})
const mode = positionals[0] ?? 'publish'
if (mode !== 'publish' && mode !== 'consume') throw new Error(`mode must be publish or consume, not ${mode}`)
const messages = Number(values.messages ?? (mode === 'publish' ? 20_000 : 10_000))
const rounds = Number(values.rounds ?? (mode === 'publish' ? 8 : 6))
const bytes = Number(values.bytes ?? (mode === 'publish' ? 100 : 1000))
const url = process.env.ANYMQ_RABBITMQ_URL
if (!url) throw new Error('ANYMQ_RABBITMQ_URL is not set: eval "$(bash scripts/brokers.sh env)" first')
const beamPid = Number(readFileSync(join(root, '.brokers', 'rabbitmq', 'rabbitmq.pid'), 'utf8').trim())

/** CPU ticks (1/100 s) the broker has used so far. */
function brokerTicks() {
  const fields = readFileSync(`/proc/${beamPid}/stat`, 'utf8').split(') ')[1].split(' ')
  return Number(fields[11]) + Number(fields[12])
}

/** The broker's process kinds whose reductions are counted, by their initial call's module. */
const processKinds = { rabbit_channel: 'channel', rabbit_prequeue: 'queue', rabbit_reader: 'reader', rabbit_writer: 'writer' }
// Sums reductions by process kind in the broker; the Erlang runs there, its result comes back as text.
const reductionsQuery = `L = [{element(1, proc_lib:translate_initial_call(P)), R} || P <- processes(), {reductions, R} <- [process_info(P, reductions)]], D = lists:foldl(fun({K, R}, A) -> maps:update_with(K, fun(V) -> V + R end, R, A) end, #{}, L), [{K, maps:get(K, D, 0)} || K <- [${Object.keys(processKinds).join(', ')}]].`
/** Reductions so far by process kind, through rabbitmqctl with the environment scripts/brokers.sh starts the node with. */
function brokerReductions() {
  const dir = join(root, '.brokers', 'rabbitmq')
  const port = process.env.ANYMQ_RABBITMQ_PORT
  const env = {
    ...process.env,
    HOME: join(dir, 'home'),
    RABBITMQ_NODENAME: `anymq${port ? `-${port}` : ''}@localhost`,
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_CONF_ENV_FILE: join(dir, 'rabbitmq-env.conf'),
    RABBITMQ_CTL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    ERL_EPMD_ADDRESS: '127.0.0.1',
  }
  const text = execFileSync('/usr/lib/rabbitmq/bin/rabbitmqctl', ['eval', reductionsQuery], { encoding: 'utf8', env, timeout: 30_000 })
  const counts = {}
  for (const [, module, count] of text.matchAll(/\{(\w+),\s*(\d+)\}/g)) counts[processKinds[module]] = Number(count)
  return counts
}

const body = (seq) => Buffer.from(JSON.stringify({ seq, pad: 'x'.repeat(Math.max(0, bytes - 20)) }))
const plain = () => ({ persistent: true, contentType: 'application/json' })
const withIdAndTimestamp = () => ({ ...plain(), messageId: crypto.randomUUID(), timestamp: Math.floor(Date.now() / 1000) })
/** Raw amqplib property sets: what the raw bench side sends, then what anymq adds, one part at a time. */
const rawShapes = {
  plain,
  /** What the bench's raw side sends since wave 9: plain, `mandatory` (a flag of the method frame, not a property). */
  'plain+mandatory': () => ({ ...plain(), mandatory: true }),
  /** anymq's properties and flags on amqplib: id, timestamp, the header and `mandatory`. */
  'anymq shape': () => ({ ...withIdAndTimestamp(), headers: { 'x-anymq-timestamp': String(Date.now()) }, mandatory: true }),
  'plain+81B body': () => plain(),
  id: () => ({ ...plain(), messageId: crypto.randomUUID() }),
  /** Does the id's length matter? 8 characters instead of a UUID's 36. */
  'short id': () => ({ ...plain(), messageId: crypto.randomUUID().slice(0, 8) }),
  /** The id in a header table instead of `message-id`: does the queue pay for the property or for the bytes? */
  'id as header': () => ({ ...plain(), headers: { 'x-anymq-id': crypto.randomUUID() } }),
  timestamp: () => ({ ...plain(), timestamp: Math.floor(Date.now() / 1000) }),
  /** The `x-anymq-timestamp` header alone: a headers table the broker decodes and keeps. */
  header: () => ({ ...plain(), headers: { 'x-anymq-timestamp': String(Date.now()) } }),
  'id+timestamp': withIdAndTimestamp,
  'id+timestamp+header': () => ({ ...withIdAndTimestamp(), headers: { 'x-anymq-timestamp': String(Date.now()) } }),
  'id+timestamp+int64': () => ({ ...withIdAndTimestamp(), headers: { 'x-anymq-timestamp': { '!': 'long', value: Date.now() } } }),
}

const connection = await amqp.connect(url, { noDelay: true })
const publisher = await connection.createConfirmChannel()
const queues = new Set()
async function freshQueue(name) {
  await publisher.assertQueue(name, { durable: true })
  await publisher.purgeQueue(name)
  queues.add(name)
  return name
}
/** Plain properties and a body longer by what anymq's properties add (id 37, timestamp 8, the header 36 bytes): is it the bytes? */
const longerBody = (seq) => Buffer.from(JSON.stringify({ seq, pad: 'x'.repeat(Math.max(0, bytes + 81 - 20)) }))
async function rawBatches(queue, shape, count) {
  const make = shape === rawShapes['plain+81B body'] ? longerBody : body
  for (let sent = 0; sent < count; sent += 100) {
    for (let index = 0; index < 100; index++) publisher.sendToQueue(queue, make(sent + index), shape())
    await publisher.waitForConfirms()
  }
}

/** Runs `work` and returns broker and client CPU µs per message and the throughput. */
async function measure(work) {
  const reductionsBefore = values.reductions ? brokerReductions() : undefined
  const ticks = brokerTicks()
  const cpu = process.cpuUsage()
  const start = performance.now()
  await work()
  const seconds = (performance.now() - start) / 1000
  const client = process.cpuUsage(cpu)
  // The broker finishes writing to disk after the last confirm; its share of the round lands here.
  await new Promise((resolve) => setTimeout(resolve, 300))
  const result = { broker: ((brokerTicks() - ticks) * 10_000) / messages, client: (client.user + client.system) / messages, rate: messages / seconds }
  if (reductionsBefore !== undefined) {
    const after = brokerReductions()
    result.reductions = {}
    for (const kind of Object.values(processKinds)) result.reductions[kind] = (after[kind] - reductionsBefore[kind]) / messages
  }
  return result
}

const runs = {}
if (mode === 'publish') {
  const { connect } = await import(pathToFileURL(join(root, 'packages', 'core', 'dist', 'index.js')).href)
  const { adapter } = await import(pathToFileURL(join(root, 'packages', 'adapter-rabbitmq', 'dist', 'index.js')).href)
  const anymq = {
    'anymq (milliseconds)': await connect(url, { adapter }),
    'anymq (seconds)': await connect(url, { adapter, broker: { timestampPrecision: 'seconds' } }),
  }
  const known = [...Object.keys(rawShapes), ...Object.keys(anymq)]
  const shapes = values.shapes === undefined ? known : values.shapes.split(',')
  const unknown = shapes.filter((shape) => !known.includes(shape))
  if (unknown.length > 0) throw new Error(`unknown shapes ${unknown.join(', ')}; known: ${known.join(', ')}`)
  for (let round = 0; round < rounds; round++) {
    for (let turn = 0; turn < shapes.length; turn++) {
      const shape = shapes[(turn + round) % shapes.length]
      const queue = await freshQueue(`broker-cpu-${shape.replace(/\W+/g, '-')}`)
      let work
      if (shape in rawShapes) {
        await rawBatches(queue, rawShapes[shape], 200)
        work = () => rawBatches(queue, rawShapes[shape], messages)
      } else {
        const handle = anymq[shape].queue(queue)
        const bodies = (first) => Array.from({ length: 100 }, (_, index) => JSON.parse(body(first + index).toString()))
        await handle.sendBatch(bodies(0))
        work = async () => {
          for (let sent = 0; sent < messages; sent += 100) await handle.sendBatch(bodies(sent))
        }
      }
      ;(runs[shape] ??= []).push(await measure(work))
    }
  }
  for (const client of Object.values(anymq)) await client.close()
} else {
  const shapes = { plain, 'anymq properties': rawShapes['id+timestamp+header'] }
  for (let round = 0; round < rounds; round++) {
    for (const shape of round % 2 ? Object.keys(shapes).reverse() : Object.keys(shapes)) {
      const queue = await freshQueue(`broker-cpu-${shape.replace(/\W+/g, '-')}`)
      await rawBatches(queue, shapes[shape], messages)
      await new Promise((resolve) => setTimeout(resolve, 300))
      const channel = await connection.createChannel()
      await channel.prefetch(16)
      let consumed = 0
      let tag
      const result = await measure(
        () =>
          new Promise((resolve) => {
            void channel
              .consume(queue, (message) => {
                if (!message) return
                JSON.parse(message.content.toString())
                channel.ack(message)
                if (++consumed === messages) resolve()
              })
              .then((reply) => {
                tag = reply.consumerTag
              })
          }),
      )
      await channel.cancel(tag)
      await channel.close()
      ;(runs[shape] ??= []).push(result)
    }
  }
}
for (const queue of queues) await publisher.deleteQueue(queue)
await connection.close()

const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)]
const column = (list, field, digits, width) =>
  median(list.map((run) => run[field]))
    .toFixed(digits)
    .padStart(width)
console.log(`${mode}, ${bytes} B, ${messages} messages × ${rounds} rounds; medians, then every round as broker/client µs per message`)
for (const [shape, list] of Object.entries(runs)) {
  const each = list.map((run) => `${run.broker.toFixed(0)}/${run.client.toFixed(1)}`).join(' ')
  const broker = column(list, 'broker', 1, 6)
  const client = column(list, 'client', 1, 5)
  console.log(`${shape.padEnd(22)} broker ${broker} µs  client ${client} µs  ${column(list, 'rate', 0, 6)} msg/s   ${each}`)
}
// A round's shapes run back to back, so the difference to the first shape within a round is steadier than
// either median: a busy machine moves both sides of it alike.
const [first, ...others] = Object.keys(runs)
if (others.length > 0) console.log(`broker µs per message minus ${first}'s in the same round: median (rounds above / all), every round`)
for (const shape of others) {
  const differences = runs[shape].map((run, round) => run.broker - runs[first][round].broker)
  const above = differences.filter((difference) => difference > 0).length
  console.log(
    `${shape.padEnd(22)} ${median(differences).toFixed(1).padStart(6)} µs (${above}/${differences.length})   ${differences.map((d) => d.toFixed(0)).join(' ')}`,
  )
}
if (values.reductions) {
  const kinds = Object.values(processKinds)
  const total = (run) => kinds.reduce((sum, kind) => sum + run.reductions[kind], 0)
  console.log("broker reductions per message, medians over the rounds; then the total minus the first shape's in the same round")
  for (const [shape, list] of Object.entries(runs)) {
    const parts = kinds.map((kind) => `${kind} ${median(list.map((run) => run.reductions[kind])).toFixed(1)}`).join('  ')
    const differences = list.map((run, round) => total(run) - total(runs[first][round]))
    console.log(
      `${shape.padEnd(22)} total ${median(list.map(total)).toFixed(1).padStart(7)}  ${parts}   vs ${first}: ${differences.map((d) => d.toFixed(0)).join(' ')}`,
    )
  }
}
