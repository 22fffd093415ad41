#!/usr/bin/env node
// Sequential request/reply round trips on Redis, two builds of the adapter alternated in one process (same machine
// state for both): a responder and a requester on two connections, as `pnpm bench`'s request-reply cell, 1 KB JSON
// bodies; p50 / p99 per round and side, then the medians. Build the adapter first (pnpm build); REDIS_DIST_A and
// REDIS_DIST_B name two builds of packages/adapter-redis/dist (default: the current one, alone).
//   eval "$(bash scripts/brokers.sh env)"; node bench/redis-request-reply.mjs [driver=node-redis] [roundTrips=1500] [rounds=3]
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const current = join(root, 'packages/adapter-redis/dist/')
const sides = [['A', process.env.REDIS_DIST_A ?? current], ...(process.env.REDIS_DIST_B ? [['B', process.env.REDIS_DIST_B]] : [])]
const { connect } = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href)
const adapters = new Map()
for (const [side, dist] of sides) adapters.set(side, (await import(pathToFileURL(join(dist, 'index.js')).href)).adapter)

const driver = process.argv[2] ?? 'node-redis'
const roundTrips = Number(process.argv[3] ?? 1500)
const rounds = Number(process.argv[4] ?? 3)
const base = process.env.ANYMQ_REDIS_URL
if (!base) throw new Error('ANYMQ_REDIS_URL is unset: eval "$(bash scripts/brokers.sh env)"')
const url = `${base}${base.includes('?') ? '&' : '?'}driver=${driver}`
const body = { pad: 'x'.repeat(1000) }

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

async function run(adapter, queue) {
  const server = await connect(url, { adapter })
  const client = await connect(url, { adapter })
  try {
    await server.responder(queue).serve((request) => request).ready
    const requester = client.requester(queue)
    for (let index = 0; index < 100; index++) await requester.request(body, { timeoutMs: 10_000 })
    const times = []
    for (let index = 0; index < roundTrips; index++) {
      const start = performance.now()
      await requester.request(body, { timeoutMs: 10_000 })
      times.push(performance.now() - start)
    }
    times.sort((a, b) => a - b)
    return { p50: percentile(times, 50), p99: percentile(times, 99) }
  } finally {
    await client.close()
    await server.close()
  }
}

const results = new Map(sides.map(([side]) => [side, []]))
for (let round = 1; round <= rounds; round++) {
  for (const [side] of round % 2 === 1 ? sides : [...sides].reverse()) {
    const load = (await import('node:os')).loadavg().map((value) => value.toFixed(1))
    const result = await run(adapters.get(side), `rr-bench-${process.pid}-${side}-${round}`)
    results.get(side).push(result)
    console.log(`round ${round} ${side}: p50 ${result.p50.toFixed(2)} ms, p99 ${result.p99.toFixed(2)} ms (load ${load.join(' ')})`)
  }
}
for (const [side, dist] of sides) {
  const list = results.get(side)
  console.log(`${side} ${dist}: median p50 ${median(list.map((r) => r.p50)).toFixed(2)} ms, median p99 ${median(list.map((r) => r.p99)).toFixed(2)} ms`)
}
