import { Duplex } from 'node:stream'
import { outgoingMessage } from '@anymq/conformance'
import { ConnectionStateTracker, type Delivery } from '@anymq/core/spi'
import type { v1 } from '@google-cloud/pubsub'
import { describe, expect, it, vi } from 'vitest'
import { PubSubConsumer, type PubSubConsumerContext } from '../src/gcp-pubsub-consumer.js'
import type { PubSubPublisher } from '../src/gcp-pubsub-publisher.js'
import type { PubSubTopology } from '../src/gcp-pubsub-topology.js'
import { encodeMessage } from '../src/gcp-pubsub-wire.js'

const subscription = 'projects/p/subscriptions/s'

/**
 * A subscriber client whose pulls wait until released and whose StreamingPull streams (in the order
 * opened) the test feeds; `calls` records, in order, what the consumer asked of it and what it handed to core.
 */
function fakeSubscriber() {
  const calls: unknown[] = []
  const written: Array<Record<string, unknown>> = []
  let releasePulls: () => void = () => {}
  const pullsReleased = new Promise<void>((resolve) => {
    releasePulls = resolve
  })
  const streams: Duplex[] = []
  const client = {
    streamingPull: () => {
      const stream = new Duplex({
        objectMode: true,
        read() {},
        write(request: Record<string, unknown>, _encoding, done) {
          written.push(request)
          done()
        },
        final(done) {
          this.push(null)
          done()
        },
      })
      streams.push(stream)
      return Object.assign(stream, { cancel: () => stream.destroy() })
    },
    pull: async () => {
      await pullsReleased
      return [{ receivedMessages: [] }]
    },
    modifyAckDeadline: async (request: { ackIds: string[]; ackDeadlineSeconds: number }) => {
      calls.push({ modifyAckDeadline: request.ackIds, seconds: request.ackDeadlineSeconds })
      return [{}]
    },
    acknowledge: async (request: { ackIds: string[] }) => {
      calls.push({ acknowledge: request.ackIds })
      return [{}]
    },
  }
  return { client: client as unknown as v1.SubscriberClient, streams, calls, written, releasePulls }
}

function contextOf(fake: ReturnType<typeof fakeSubscriber>): PubSubConsumerContext {
  return {
    subscriber: fake.client,
    topology: {} as PubSubTopology,
    publisher: {} as PubSubPublisher,
    maxPull: 100,
    ackDeadlineSeconds: 30,
    connectionState: new ConnectionStateTracker(undefined),
  }
}

const target = { subscription, retryTopic: 'projects/p/topics/t', self: undefined, temporary: false, ownsTopic: false }

describe('pub/sub consumer', () => {
  // A message pstest hands a stream the client is ending never reaches the client and comes back only
  // after the stream's deadline (30 s before, against a 20 s request timeout): the stream's deadline is
  // now the shortest allowed, and the lease is set on receipt.
  it('asks its stream for a 10 s ack deadline and sets the lease of what the stream brings before handing it', async () => {
    const fake = fakeSubscriber()
    let handed: (delivery: Delivery) => void = () => {}
    const delivered = new Promise<Delivery>((resolve) => {
      handed = resolve
    })
    const consumer = new PubSubConsumer(
      contextOf(fake),
      target,
      undefined,
      { prefetch: 4, leaseMs: undefined, onError: (error) => fake.calls.push({ error: error.message }) },
      (delivery) => {
        fake.calls.push({ handed: (delivery.raw as { ackId: string }).ackId })
        handed(delivery)
      },
    )
    consumer.start()
    fake.streams[0]?.push({ receivedMessages: [{ ackId: 'm1:1', message: { ...encodeMessage(outgoingMessage({})), messageId: 'm1' } }] })
    await delivered
    const closing = consumer.close()
    fake.releasePulls()
    await closing
    expect(fake.written[0]).toMatchObject({ subscription, streamAckDeadlineSeconds: 10 })
    expect(fake.calls.slice(0, 2)).toEqual([{ modifyAckDeadline: ['m1:1'], seconds: 30 }, { handed: 'm1:1' }])
  })

  // A paused stream is still one the server hands messages to, unread (pstest gave it the redelivery of
  // the message the consumer's own overdue handler held, a delivery nobody saw, again and again): a
  // consumer still full halfway to its first lease's end has no stream open.
  it('ends its stream before the lease of a message it holds runs out, and opens one when a slot frees', async () => {
    const fake = fakeSubscriber()
    const handed: Delivery[] = []
    let notify: () => void = () => {}
    const consumer = new PubSubConsumer(contextOf(fake), target, undefined, { prefetch: 1, leaseMs: 1000, onError: () => {} }, (delivery) => {
      handed.push(delivery)
      notify()
    })
    const delivered = new Promise<void>((resolve) => {
      notify = resolve
    })
    consumer.start()
    const [first] = fake.streams
    first?.push({ receivedMessages: [{ ackId: 'm1:1', message: { ...encodeMessage(outgoingMessage({})), messageId: 'm1' } }] })
    await delivered
    expect(first?.writableEnded).toBe(false)
    await vi.waitFor(() => expect(first?.writableEnded).toBe(true), { timeout: 2000, interval: 20 })
    expect(fake.streams).toHaveLength(1)
    await handed[0]?.ack()
    await vi.waitFor(() => expect(fake.streams).toHaveLength(2))
    expect(fake.streams[1]?.writableEnded).toBe(false)
    const closing = consumer.close()
    fake.releasePulls()
    await closing
  })

  // At concurrency 1 every message fills the consumer: a stream ended each time would be a stream per message.
  it('keeps its stream when a slot frees well before the lease of what it holds runs out', async () => {
    const fake = fakeSubscriber()
    const handed: Delivery[] = []
    let notify: () => void = () => {}
    const consumer = new PubSubConsumer(contextOf(fake), target, undefined, { prefetch: 1, leaseMs: 60_000, onError: () => {} }, (delivery) => {
      handed.push(delivery)
      notify()
    })
    consumer.start()
    const [only] = fake.streams
    for (const id of ['m1', 'm2', 'm3']) {
      const delivered = new Promise<void>((resolve) => {
        notify = resolve
      })
      only?.push({ receivedMessages: [{ ackId: `${id}:1`, message: { ...encodeMessage(outgoingMessage({})), messageId: id } }] })
      await delivered
      await handed.at(-1)?.ack()
    }
    expect(handed).toHaveLength(3)
    expect(fake.streams).toHaveLength(1)
    expect(only?.writableEnded).toBe(false)
    const closing = consumer.close()
    fake.releasePulls()
    await closing
  })
})
