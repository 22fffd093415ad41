#!/usr/bin/env node
// One send per message, 64 in flight, against a real Redis: anymq (the compiled adapter on node-redis, `queue.send`,
// JSON codec) and raw node-redis (the bench's raw client: an XADD with the body as its one field), alternated round by
// round in one process; each round measured by measure-round.mjs (CPU of the main and the other threads, JS heap bytes
// allocated, scavenges, per message; HEAP_PROFILE=<file> writes the last round's allocation profile per side).
// Medians of the rounds after the first. Build first; REDIS_DIST=<dir>/ runs another build of the adapter.
//   ANYMQ_REDIS_URL=redis://… node --expose-gc bench/redis-publish-alloc.mjs [bytes=1000] [messages=20000] [rounds=6] [sides=anymq,raw]
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describeMedians, describeRound, measureRound } from './measure-round.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = process.env.REDIS_DIST ?? join(root, 'packages/adapter-redis/dist/')
const { adapter } = await import(pathToFileURL(join(dist, 'index.js')).href)
const { connect } = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href)
const { createClient } = await import(pathToFileURL(join(root, 'bench/node_modules/@redis/client/dist/index.js')).href)

const url = process.env.ANYMQ_REDIS_URL
if (!url) throw new Error('set ANYMQ_REDIS_URL (eval "$(bash scripts/brokers.sh env)")')
const bytes = Number(process.argv[2] ?? 1000)
const total = Number(process.argv[3] ?? 20000)
const rounds = Number(process.argv[4] ?? 6)
const sides = (process.argv[5] ?? 'anymq,raw').split(',')
const window = 64
const pad = 'x'.repeat(Math.max(0, bytes - 60))
const prefix = `publish-${process.pid}`

const mq = await connect(url, { adapter, logger: { debug() {}, info() {}, warn: console.warn, error: console.error } })
const raw = createClient({ url })
await raw.connect()

/** Keeps `window` sends in flight until `total` were sent and all resolved. */
async function pipelined(sendOne) {
  let next = 0
  const lane = async () => {
    while (next < total) {
      const seq = next++
      await sendOne({ run: 'abcdefgh', seq, sentAt: Date.now(), pad })
    }
  }
  await Promise.all(Array.from({ length: window }, lane))
}

const sendAnymq = (stream) => {
  const queue = mq.queue(stream)
  return pipelined((body) => queue.send(body))
}
const sendRaw = (stream) => pipelined((body) => raw.xAdd(stream, '*', { body: JSON.stringify(body) }))

const results = Object.fromEntries(sides.map((side) => [side, []]))
for (let round = 1; round <= rounds; round++) {
  for (const side of sides) {
    const stream = `${prefix}-${side}-${round}`
    const heapProfile = process.env.HEAP_PROFILE !== undefined && round === rounds ? `${process.env.HEAP_PROFILE}.${side}.heapprofile` : undefined
    const result = await measureRound(() => (side === 'anymq' ? sendAnymq : sendRaw)(stream), total, heapProfile)
    results[side].push(result)
    console.log(describeRound(round, side, result))
    await raw.del(side === 'anymq' ? `anymq:q:${stream}` : stream)
  }
}
for (const side of sides) console.log(describeMedians(`${side} send, ${window} in flight, ${bytes} B, ${total} messages`, results[side]))
await mq.close()
await raw.close()
