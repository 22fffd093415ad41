import type { ConnectionEvent } from '@anymq/core'
import { context, SpanKind, trace } from '@opentelemetry/api'
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Collector, type Harness, uniqueName } from '../harness.js'
import { releaseTelemetryCapture, type TelemetryCapture, telemetryCapture } from '../telemetry-capture.js'
import { waitUntil } from './retry.js'

/**
 * OpenTelemetry traces and metrics across a real broker hop, and connection health. Registers an
 * in-memory OpenTelemetry SDK while it runs (the last group) and unregisters it afterwards, so the
 * next configuration's suite in the same file sees no trace headers.
 */
export function observabilityCases(h: Harness): void {
  describe('observability', () => {
    let otel: TelemetryCapture
    beforeAll(() => {
      otel = telemetryCapture()
    })
    afterAll(() => releaseTelemetryCapture())

    const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId
    const finished = (destination: string, name: string, count: number) =>
      waitUntil(async () => otel.spansOf(destination).filter((span) => span.name === name).length >= count, h.ms(20_000), `${count} '${name}' spans`)

    it('continues the sender’s trace in the consumer: PRODUCER send span, CONSUMER process span as its child', async () => {
      const [producer, consumer] = [await h.connect(), await h.connect()]
      const name = uniqueName('trace')
      const seen = new Collector<string>()
      await consumer.queue<string>(name, h.target.queueOptions).consume(seen.handler).ready
      const { id } = await producer.queue<string>(name, h.target.queueOptions).send('traced')
      await seen.waitForCount(1, h.ms(20_000))
      await finished(name, `process ${name}`, 1)
      const send = otel.spansOf(name).find((span) => span.name === `send ${name}`)
      const process = otel.spansOf(name).find((span) => span.name === `process ${name}`)
      expect(send?.kind).toBe(SpanKind.PRODUCER)
      expect(process?.kind).toBe(SpanKind.CONSUMER)
      expect(process?.spanContext().traceId).toBe(send?.spanContext().traceId)
      expect(parentOf(process as ReadableSpan)).toBe(send?.spanContext().spanId)
      for (const [span, operation] of [
        [send, 'send'],
        [process, 'process'],
      ] as const) {
        expect(span?.attributes['messaging.system']).toBe(send?.attributes['messaging.system'])
        expect(span?.attributes['messaging.destination.name']).toBe(name)
        expect(span?.attributes['messaging.operation.type']).toBe(operation)
        expect(span?.attributes['messaging.message.id']).toBe(id)
      }
      expect(send?.attributes['messaging.system']).toMatch(/^[a-z_.]+$/)
      expect(seen.items[0]?.headers.traceparent).toContain(send?.spanContext().spanId)
    })

    it('traces a batch: one send span with the batch size, linked to a create span per message that each process span continues', async () => {
      const [producer, consumer] = [await h.connect(), await h.connect()]
      const name = uniqueName('trace-batch')
      const seen = new Collector<number>()
      await consumer.queue<number>(name, h.target.queueOptions).consume(seen.handler).ready
      await producer.queue<number>(name, h.target.queueOptions).sendBatch([1, 2, 3])
      await seen.waitForCount(3, h.ms(20_000))
      await finished(name, `process ${name}`, 3)
      const spans = otel.spansOf(name)
      const send = spans.find((span) => span.name === `send ${name}`)
      const creates = spans.filter((span) => span.name === `create ${name}`)
      expect(send?.attributes['messaging.batch.message_count']).toBe(3)
      expect(creates).toHaveLength(3)
      expect(send?.links.map((link) => link.context.spanId).sort()).toEqual(creates.map((span) => span.spanContext().spanId).sort())
      const processParents = spans.filter((span) => span.name === `process ${name}`).map(parentOf)
      expect(processParents.sort()).toEqual(creates.map((span) => span.spanContext().spanId).sort())
    })

    it('records a retry and the dead-lettering as events of the process spans, in the sender’s trace', async () => {
      const mq = await h.connect()
      const name = uniqueName('trace-dlq')
      const queue = mq.queue<string>(name, { ...h.target.queueOptions, retry: { maxAttempts: 2, backoff: { type: 'fixed', delayMs: 20 } } })
      await queue.consume(() => {
        throw new Error('still failing')
      }).ready
      await queue.send('doomed')
      await finished(name, `process ${name}`, 2)
      const send = otel.spansOf(name).find((span) => span.name === `send ${name}`)
      const processes = otel
        .spansOf(name)
        .filter((span) => span.name === `process ${name}`)
        .sort((a, b) => Number(a.attributes['anymq.message.attempt']) - Number(b.attributes['anymq.message.attempt']))
      expect(processes.map((span) => span.events.map((event) => event.name))).toEqual([['anymq.retry'], ['anymq.dead_letter']])
      expect(processes.every((span) => span.spanContext().traceId === send?.spanContext().traceId)).toBe(true)
      expect(processes[1]?.events[0]?.attributes?.['anymq.dead_letter.queue']).toBe(`${name}.dlq`)
      expect(await otel.metric('anymq.messages.retried', name)).toBe(1)
      expect(await otel.metric('anymq.messages.dead_lettered', name)).toBe(1)
    })

    it('joins the requester’s trace: the responder’s process span and its reply are in the caller’s trace', async () => {
      const [client, server] = [await h.connect(), await h.connect()]
      const name = uniqueName('trace-rpc')
      await server.responder<number, number>(name).serve((n) => n + 1).ready
      const root = trace.getTracer('conformance').startSpan('caller')
      const reply = await context.with(trace.setSpan(context.active(), root), () =>
        client.requester<number, number>(name).request(41, { timeoutMs: h.ms(10_000) }),
      )
      root.end()
      expect(reply).toBe(42)
      // The reply can arrive before the broker confirms the request's publish, which is when its send
      // span ends; the same holds for the reply's own send span.
      await finished(name, `process ${name}`, 1)
      await finished(name, `send ${name}`, 1)
      const traceId = root.spanContext().traceId
      const send = otel.spansOf(name).find((span) => span.name === `send ${name}`)
      const process = otel.spansOf(name).find((span) => span.name === `process ${name}`)
      expect(send?.spanContext().traceId).toBe(traceId)
      expect(parentOf(send as ReadableSpan)).toBe(root.spanContext().spanId)
      expect(parentOf(process as ReadableSpan)).toBe(send?.spanContext().spanId)
      const isReplySend = (span: ReadableSpan) => span.name === 'send (anonymous)' && parentOf(span) === process?.spanContext().spanId
      await waitUntil(async () => otel.spans.some(isReplySend), h.ms(20_000), 'the reply’s send span')
      const replySend = otel.spans.find(isReplySend)
      expect(replySend?.spanContext().traceId).toBe(traceId)
    })

    it('counts messages sent, consumed and processed, with publish and process durations, per destination', async () => {
      const [producer, consumer] = [await h.connect(), await h.connect()]
      const name = uniqueName('metrics')
      const seen = new Collector<number>()
      await consumer.queue<number>(name, h.target.queueOptions).consume(seen.handler).ready
      const queue = producer.queue<number>(name, h.target.queueOptions)
      await queue.sendBatch([1, 2, 3, 4])
      await queue.send(5)
      await seen.waitForCount(5, h.ms(20_000))
      await finished(name, `process ${name}`, 5)
      expect(await otel.metric('messaging.client.sent.messages', name)).toBe(5)
      expect(await otel.metric('messaging.client.operation.duration', name)).toBe(2)
      expect(await otel.metric('messaging.client.consumed.messages', name)).toBe(5)
      expect(await otel.metric('messaging.process.duration', name)).toBe(5)
      expect(await otel.metric('anymq.messages.in_flight', name)).toBe(0)
    })

    it('reports messaging.consumer.lag for a consumed queue where the adapter declares admin.stats, and none where it does not', async () => {
      const [producer, consumer] = [await h.connect(), await h.connect()]
      const name = uniqueName('lag')
      await producer.queue<number>(name, h.target.queueOptions).sendBatch([1, 2, 3, 4])
      let release: () => void = () => {}
      const gate = new Promise<void>((resolve) => (release = resolve))
      const seen = new Collector<number>()
      await consumer.queue<number>(name, h.target.queueOptions).consume(
        async (message) => {
          await gate
          await seen.handler(message)
        },
        { concurrency: 1, prefetch: 1 },
      ).ready
      try {
        if (h.target.capabilities.admin?.stats === true) {
          // Read when the consumer started (then every 10 s by default): messages wait behind the blocked handler.
          await waitUntil(async () => (await otel.metric('messaging.consumer.lag', name)) > 0, h.ms(20_000), 'a consumer lag above 0')
        } else {
          await waitUntil(async () => seen.items.length > 0 || (await otel.metric('anymq.messages.in_flight', name)) > 0, h.ms(20_000), 'a delivery')
          expect(await otel.metric('messaging.consumer.lag', name)).toBe(0)
        }
      } finally {
        release()
      }
      await seen.waitForCount(4, h.ms(20_000))
    })

    it('reports the connection connected and ready, then closed, as health and as an event', async () => {
      const mq = await h.connect()
      const events: ConnectionEvent[] = []
      mq.onConnectionState((event) => events.push(event))
      expect(mq.health()).toMatchObject({ ready: true, state: 'connected', reconnects: 0 })
      await mq.close()
      expect(mq.health()).toMatchObject({ ready: false, state: 'closed' })
      expect(events.map((event) => [event.previous, event.state])).toEqual([['connected', 'closed']])
    })
  })
}
