// What the standalone Redis send scripts (redis-publish-alloc, redis-send-batch-alloc) share: anymq on the compiled
// adapter (REDIS_DIST=<dir>/ names another build) and raw node-redis, both on ANYMQ_REDIS_URL, and the rounds that
// alternate the two sides in one process, each measured by measure-round.mjs (CPU of the main and the other threads,
// JS heap bytes allocated, scavenges, per message; HEAP_PROFILE=<file> writes the last round's allocation profile per
// side), then the medians of the rounds after the first.
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { describeMedians, describeRound, measureRound } from './measure-round.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

/** anymq (`mq`) and a raw node-redis client (`raw`) on ANYMQ_REDIS_URL, connected. */
export async function openRedisSides() {
  const dist = process.env.REDIS_DIST ?? join(root, 'packages/adapter-redis/dist/')
  const { adapter } = await import(pathToFileURL(join(dist, 'index.js')).href)
  const { connect } = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href)
  const { createClient } = await import(pathToFileURL(join(root, 'bench/node_modules/@redis/client/dist/index.js')).href)
  const url = process.env.ANYMQ_REDIS_URL
  if (!url) throw new Error('set ANYMQ_REDIS_URL (eval "$(bash scripts/brokers.sh env)")')
  const mq = await connect(url, { adapter, logger: { debug() {}, info() {}, warn: console.warn, error: console.error } })
  const raw = createClient({ url })
  await raw.connect()
  return { mq, raw }
}

/**
 * Runs `rounds` rounds, each side once per round on a stream of its own (deleted after), prints each round and then
 * each side's medians under `label`, and closes both clients. `send[side](stream)` sends `total` messages.
 */
export async function runSendRounds({ mq, raw, prefix, sides, rounds, total, send, label }) {
  const results = Object.fromEntries(sides.map((side) => [side, []]))
  for (let round = 1; round <= rounds; round++) {
    for (const side of sides) {
      const stream = `${prefix}-${side}-${round}`
      const heapProfile = process.env.HEAP_PROFILE !== undefined && round === rounds ? `${process.env.HEAP_PROFILE}.${side}.heapprofile` : undefined
      const result = await measureRound(() => send[side](stream), total, heapProfile)
      results[side].push(result)
      console.log(describeRound(round, side, result))
      await raw.del(side === 'anymq' ? `anymq:q:${stream}` : stream)
    }
  }
  for (const side of sides) console.log(describeMedians(`${side} ${label}`, results[side]))
  await mq.close()
  await raw.close()
}
