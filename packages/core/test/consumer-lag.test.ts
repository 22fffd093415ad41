import { metrics } from '@opentelemetry/api'
import { AggregationTemporality, type DataPoint, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter as memory } from '../../adapter-memory/src/index.js'
import { type Anymq, connect, transportOf } from '../src/index.js'

const open: Anymq[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((mq) => mq.close()))
  metrics.disable()
})

/** A MeterProvider registered as an application would, exporting to the SDK's in-memory exporter on demand. */
function registerMeterProvider(): { lag(destination: string, subscription?: string): Promise<number | undefined> } {
  // Delta: a gauge's collection holds only the sources observed in it, so a source no longer reported is seen to be gone.
  const exporter = new InMemoryMetricExporter(AggregationTemporality.DELTA)
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 })
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }))
  return {
    async lag(destination, subscription) {
      exporter.reset()
      await reader.forceFlush()
      const points = exporter
        .getMetrics()
        .flatMap((resource) => resource.scopeMetrics)
        .flatMap((scope) => scope.metrics)
        .filter((metric) => metric.descriptor.name === 'messaging.consumer.lag')
        .flatMap((metric) => metric.dataPoints as DataPoint<number>[])
        .filter(
          (point) =>
            point.attributes['messaging.destination.name'] === destination && point.attributes['messaging.destination.subscription.name'] === subscription,
        )
      return points[0]?.value
    },
  }
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

describe('messaging.consumer.lag', () => {
  it('reports the messages waiting in a consumed queue and a named subscription, from admin.stats, until the consumer closes', async () => {
    const otel = registerMeterProvider()
    const mq = await connect('memory://lag', { adapter: memory, consumerLagIntervalMs: 20 })
    open.push(mq)
    const queue = mq.queue<number>('lag-orders')
    await queue.sendBatch([1, 2, 3, 4, 5])
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    const handled: number[] = []
    const subscription = queue.consume(
      async (message) => {
        await gate
        handled.push(message.body)
      },
      { concurrency: 1, prefetch: 1 },
    )
    await subscription.ready
    // One message held by the blocked handler, four waiting.
    await eventually(async () => (await otel.lag('lag-orders')) === 4, 'a lag of 4')
    release()
    await eventually(async () => handled.length === 5 && (await otel.lag('lag-orders')) === 0, 'a lag of 0 once all are handled')

    const topic = mq.topic<number>('lag-events')
    let releaseAudit: () => void = () => {}
    const auditGate = new Promise<void>((resolve) => (releaseAudit = resolve))
    const audit = topic.subscribe('audit', () => auditGate)
    await audit.ready
    await topic.publishBatch([1, 2, 3])
    await eventually(async () => (await otel.lag('lag-events', 'audit')) === 2, "a lag of 2 on subscription 'audit'")

    await subscription.close()
    expect(await otel.lag('lag-orders')).toBeUndefined()
    expect(await otel.lag('lag-events', 'audit')).toBe(2)
    releaseAudit()
  })

  it('polls nothing when no MeterProvider is registered, nor when the interval is 0', async () => {
    metrics.disable()
    for (const [url, options] of [
      ['memory://lag-none', {}],
      ['memory://lag-off', { consumerLagIntervalMs: 0 }],
    ] as const) {
      if (url === 'memory://lag-off') registerMeterProvider()
      const mq = await connect(url, { adapter: memory, ...options })
      open.push(mq)
      const admin = transportOf(mq).admin!
      const stats = admin.stats.bind(admin)
      let reads = 0
      admin.stats = (source) => {
        reads++
        return stats(source)
      }
      const queue = mq.queue<number>('quiet')
      const handled: number[] = []
      await queue.consume((message) => void handled.push(message.body)).ready
      await queue.send(1)
      await eventually(async () => handled.length === 1, 'the message')
      // The gauge, were it on, reads when the consumer starts; the message has been handled since.
      expect(reads).toBe(0)
    }
  })
})
