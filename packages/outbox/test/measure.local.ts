// Ad-hoc measurement for the report (not a test, not committed).
import { connect } from '@anymq/core'
import { adapter as memoryAdapter } from '@anymq/memory'
import { adapter as rabbitmqAdapter } from '@anymq/rabbitmq'
import { postgresFixture, sqliteFixture, uniqueName } from './fixtures.js'

const brokers: [string, () => Promise<any>][] = [
  ['memory', () => connect(`memory://${uniqueName('m')}`, { adapter: memoryAdapter })],
  ['rabbitmq', () => connect(process.env.ANYMQ_RABBITMQ_URL!, { adapter: rabbitmqAdapter })],
]
const total = Number(process.env.N ?? 20000)

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

for (const [storeName, create] of [
  ['postgres', postgresFixture],
  ['sqlite', sqliteFixture],
] as const) {
  for (const [brokerName, open] of brokers) {
    for (const batchSize of process.env.SKIP_THROUGHPUT ? [] : [200, 1000]) {
      const fixture: any = await (create as any)()
      const mq = await open()
      const queue = uniqueName('tp')
      const consumer = mq.queue(queue).consume(() => {})
      await consumer.ready
      const keyed = Array.from({ length: 500 }, (_, index) => ({ n: index, text: 'payload-'.repeat(8) }))
      for (let start = 0; start < total; start += 500)
        await fixture.commit((tx: any) => fixture.outbox.addBatch(tx, queue, keyed, (body: any) => ({ key: `k${body.n % 50}` })))
      let published = 0
      let last = 0
      const started = Date.now()
      const relay = fixture.relayOutbox().startRelay({
        mq,
        batchSize,
        retentionMs: 3_600_000,
        onPublished: (rows: any[]) => {
          published += rows.length
          last = Date.now()
        },
      })
      while (published < total) await new Promise((resolve) => setTimeout(resolve, 20))
      const seconds = (last - started) / 1000
      console.log(
        `throughput ${storeName} -> ${brokerName} batch ${batchSize}: ${total} rows in ${seconds.toFixed(2)} s = ${Math.round(total / seconds)} rows/s`,
      )
      await relay.stop()
      await consumer.close()
      await mq.close()
      await fixture.close()
    }
    // Latency: single-row transactions at a steady pace; commit returned -> broker confirmed.
    {
      const fixture: any = await (create as any)()
      const mq = await open()
      const queue = uniqueName('lat')
      const commitAt = new Map<string, number>()
      const latencies: number[] = []
      const publishedAt = new Map<string, number>()
      const relay = fixture.relayOutbox().startRelay({
        mq,
        onPublished: (rows: any[]) => {
          for (const row of rows) publishedAt.set(row.id, row.publishedAtMs)
        },
      })
      const count = 1500
      for (let index = 0; index < count; index++) {
        const id = `m-${index}`
        await fixture.commit((tx: any) => fixture.outbox.add(tx, queue, { index }, { id, key: `k${index % 10}` }))
        commitAt.set(id, Date.now())
        await new Promise((resolve) => setTimeout(resolve, 4))
      }
      while (publishedAt.size < count) await new Promise((resolve) => setTimeout(resolve, 20))
      for (const [id, at] of commitAt) latencies.push(publishedAt.get(id)! - at)
      console.log(
        `latency ${storeName} -> ${brokerName}: p50 ${percentile(latencies, 50)} ms, p99 ${percentile(latencies, 99)} ms, max ${Math.max(...latencies)} ms over ${count} (commit returned -> broker confirmed)`,
      )
      await relay.stop()
      await mq.close()
      await fixture.close()
    }
  }
}
process.exit(0)
