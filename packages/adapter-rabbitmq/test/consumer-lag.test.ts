import { randomBytes } from 'node:crypto'
import { brokerUrl, telemetryCapture, waitUntil } from '@anymq/conformance'
import { type Anymq, connect } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_RABBITMQ_URL')
const open: Anymq[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((mq) => mq.close()))
})

describe.skipIf(!url)(`rabbitmq consumer lag gauge${!url ? ' (ANYMQ_RABBITMQ_URL unset)' : ''}`, () => {
  it('reports messaging.consumer.lag from the queue depth while a consumer runs, down to 0 once handled', async () => {
    // Registered before connect(), as an application registers its SDK.
    const otel = telemetryCapture()
    const mq = await connect(url as string, { adapter, consumerLagIntervalMs: 50 })
    open.push(mq)
    const name = `lag-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`
    const queue = mq.queue<number>(name)
    await queue.sendBatch([1, 2, 3, 4, 5, 6])
    let release: () => void = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    let handled = 0
    await queue.consume(
      async () => {
        await gate
        handled++
      },
      { concurrency: 1, prefetch: 1 },
    ).ready
    // One unacked message in the blocked handler, five ready in the queue.
    await waitUntil(async () => (await otel.metric('messaging.consumer.lag', name)) === 5, 20_000, 'a lag of 5')
    release()
    await waitUntil(async () => handled === 6 && (await otel.metric('messaging.consumer.lag', name)) === 0, 20_000, 'a lag of 0')
    expect(handled).toBe(6)
  })
})
