#!/usr/bin/env node
// Where a batch's cost is, client and server. Forms on the raw client of one driver (node-redis or ioredis): `raw` (the
// bench's raw side: a pipeline of XADDs, the body the one field), `rawmulti` (the same in MULTI/EXEC), `onefield` (MULTI,
// anymq's bytes in one field), and with anymq's two fields per entry (`body`, and an `anymq` properties JSON of the same
// shape) `pipeline`, `multi`, `eval` (one EVALSHA of a script that XADDs them all); `anymq` (`queue.sendBatch` on the
// compiled adapter, REDIS_DIST=<dir>/ for another build) and `anymqB` (the build in REDIS_DIST_B=<dir>/, an A/B in one
// process). Batches of 100, WINDOW (default 4, as the bench's cell) in flight. Rounds alternate the forms in one process;
// per message: the client's main-thread CPU, and Redis' main-thread CPU (`INFO cpu` before and after). Build first.
//   ANYMQ_REDIS_URL=redis://… node --expose-gc bench/redis-batch-forms.mjs [driver=node-redis|ioredis] [bytes=100] [batches=300] [rounds=5] [forms=raw,pipeline,multi,eval,anymq]
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const driver = process.argv[2] ?? 'node-redis'
const bytes = Number(process.argv[3] ?? 100)
const batches = Number(process.argv[4] ?? 300)
const rounds = Number(process.argv[5] ?? 5)
const forms = (process.argv[6] ?? 'raw,pipeline,multi,eval,anymq').split(',')
const window = Number(process.env.WINDOW ?? 4)
const batchSize = 100
const total = batches * batchSize
const pad = 'x'.repeat(Math.max(0, bytes - 60))
const url = process.env.ANYMQ_REDIS_URL
if (!url) throw new Error('set ANYMQ_REDIS_URL (eval "$(bash scripts/brokers.sh env)")')

const dist = process.env.REDIS_DIST ?? join(root, 'packages/adapter-redis/dist/')
const { adapter } = await import(pathToFileURL(join(dist, 'index.js')).href)
const { connect } = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href)
const logger = { debug() {}, info() {}, warn: console.warn, error: console.error }
const driverUrl = `${url}${url.includes('?') ? '&' : '?'}driver=${driver}`
const mq = await connect(driverUrl, { adapter, logger })
// REDIS_DIST_B=<dir>/: a second build of the adapter, the form `anymqB`.
const mqB = process.env.REDIS_DIST_B
  ? await connect(driverUrl, { adapter: (await import(pathToFileURL(join(process.env.REDIS_DIST_B, 'index.js')).href)).adapter, logger })
  : undefined

const lua = "for i = 1, #ARGV, 2 do redis.call('XADD', KEYS[1], '*', 'body', ARGV[i], 'anymq', ARGV[i + 1]) end return #ARGV / 2"
let client
let send
if (driver === 'ioredis') {
  const { Redis } = await import(pathToFileURL(join(root, 'bench/node_modules/ioredis/built/index.js')).href)
  client = new Redis(url)
  const sha = await client.script('LOAD', lua)
  send = {
    pipeline: async (stream, entries) => {
      const pipeline = client.pipeline()
      for (const [body, props] of entries) pipeline.xadd(stream, '*', 'body', body, 'anymq', props)
      for (const [error] of await pipeline.exec()) if (error) throw error
    },
    multi: async (stream, entries) => {
      const multi = client.multi()
      for (const [body, props] of entries) multi.xadd(stream, '*', 'body', body, 'anymq', props)
      for (const [error] of await multi.exec()) if (error) throw error
    },
    eval: (stream, entries) => client.evalsha(sha, 1, stream, ...entries.flat()),
    raw: async (stream, entries) => {
      const pipeline = client.pipeline()
      for (const [body] of entries) pipeline.xadd(stream, '*', 'body', body)
      for (const [error] of await pipeline.exec()) if (error) throw error
    },
    rawmulti: async (stream, entries) => {
      const multi = client.multi()
      for (const [body] of entries) multi.xadd(stream, '*', 'body', body)
      for (const [error] of await multi.exec()) if (error) throw error
    },
  }
} else {
  const { createClient } = await import(pathToFileURL(join(root, 'bench/node_modules/@redis/client/dist/index.js')).href)
  client = createClient({ url, RESP: 2 })
  await client.connect()
  const sha = await client.scriptLoad(lua)
  send = {
    pipeline: (stream, entries) => {
      const pipeline = client.multi()
      for (const [body, props] of entries) pipeline.addCommand(['XADD', stream, '*', 'body', body, 'anymq', props])
      return pipeline.execAsPipeline()
    },
    multi: (stream, entries) => {
      const multi = client.multi()
      for (const [body, props] of entries) multi.addCommand(['XADD', stream, '*', 'body', body, 'anymq', props])
      return multi.exec()
    },
    eval: (stream, entries) => client.sendCommand(['EVALSHA', sha, '1', stream, ...entries.flat()]),
    raw: (stream, entries) => {
      const pipeline = client.multi()
      for (const [body] of entries) pipeline.addCommand(['XADD', stream, '*', 'body', body])
      return pipeline.execAsPipeline()
    },
    rawmulti: (stream, entries) => {
      const multi = client.multi()
      for (const [body] of entries) multi.addCommand(['XADD', stream, '*', 'body', body])
      return multi.exec()
    },
    // anymq's bytes in raw's one field: what the second field costs beyond its bytes
    onefield: (stream, entries) => {
      const multi = client.multi()
      for (const [body, props] of entries) multi.addCommand(['XADD', stream, '*', 'body', body + props])
      return multi.exec()
    },
  }
}
const info = async () => {
  const text = await client.info('cpu')
  const value = (name) => Number(new RegExp(`${name}:([0-9.]+)`).exec(text)[1])
  return (value('used_cpu_user_main_thread') + value('used_cpu_sys_main_thread')) * 1e6
}

const bodyOf = (seq) => ({ run: 'abcdefgh', seq, sentAt: Date.now(), pad })
/** Runs `sendOne(batch)` for every batch, `window` at a time (as the bench's sendBatch cell: 4). */
async function inFlight(sendOne) {
  let next = 0
  const lane = async () => {
    while (next < batches) await sendOne(next++)
  }
  await Promise.all(Array.from({ length: window }, lane))
}

async function run(form, stream) {
  if (form === 'anymq' || form === 'anymqB') {
    const queue = (form === 'anymq' ? mq : mqB).queue(stream)
    await inFlight((batch) => {
      const bodies = []
      for (let seq = 0; seq < batchSize; seq++) bodies.push(bodyOf(batch * batchSize + seq))
      return queue.sendBatch(bodies)
    })
    return `anymq:q:${stream}`
  }
  await inFlight((batch) => {
    const entries = []
    for (let seq = 0; seq < batchSize; seq++) {
      const props = `{"id":"${crypto.randomUUID()}","contentType":"application/json","timestamp":${Date.now()}}`
      entries.push([JSON.stringify(bodyOf(batch * batchSize + seq)), props])
    }
    return send[form](stream, entries)
  })
  return stream
}

const results = Object.fromEntries(forms.map((form) => [form, []]))
for (let round = 1; round <= rounds; round++) {
  for (const form of forms) {
    globalThis.gc?.()
    const stream = `forms-${process.pid}-${form}-${round}`
    const serverStart = await info()
    const wallStart = performance.now()
    const cpuStart = process.threadCpuUsage()
    const key = await run(form, stream)
    const cpu = process.threadCpuUsage(cpuStart)
    const wallMs = performance.now() - wallStart
    const serverUs = (await info()) - serverStart
    const result = { clientUs: (cpu.user + cpu.system) / total, serverUs: serverUs / total, perSecond: total / (wallMs / 1000) }
    results[form].push(result)
    console.log(
      `round ${round} ${form.padEnd(8)} client ${result.clientUs.toFixed(2)} µs/msg, redis ${result.serverUs.toFixed(2)} µs/msg, ${result.perSecond.toFixed(0)} msg/s`,
    )
    await client.del(key)
  }
}
const median = (values) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]
for (const form of forms) {
  const warm = results[form].slice(1)
  console.log(
    `${driver} ${form.padEnd(8)} ${batchSize} × ${bytes} B: median after the first round: client ${median(warm.map((r) => r.clientUs)).toFixed(2)} µs/msg, redis ${median(warm.map((r) => r.serverUs)).toFixed(2)} µs/msg, ${median(warm.map((r) => r.perSecond)).toFixed(0)} msg/s`,
  )
}
await mq.close()
await mqB?.close()
await (driver === 'ioredis' ? client.quit() : client.close())
