import { Duplex } from 'node:stream'
import { outgoingMessage } from '@anymq/conformance'
import { silentLogger } from '@anymq/core'
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
 * opened) the test feeds; `calls` records, in order, what the consumer asked of it and what it handed to
 * core.
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
    logger: silentLogger,
    recreateSubscription: async () => {},
  }
}

const target = { subscription, retryTopic: 'projects/p/topics/t', self: undefined, temporary: false, ownsTopic: false }

function streamed(...ids: string[]) {
  return { receivedMessages: ids.map((id) => ({ ackId: `${id}:1`, message: { ...encodeMessage(outgoingMessage({})), messageId: id } })) }
}

/** What the consumer asked about one message, and when it handed it. */
function callsFor(calls: unknown[], ackId: string): unknown[] {
  return calls.filter((call) =>
    Object.values(call as Record<string, unknown>).some((value) => value === ackId || (Array.isArray(value) && value.includes(ackId))),
  )
}

/**
 * A consumer of prefetch 1 without `leaseMs` (its lease the context's 30 s ack deadline) on a fake
 * subscriber, with fake time (`setTimeout` and `Date` only: streams and the acker's turns run as usual).
 */
async function fullConsumer() {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
  const fake = fakeSubscriber()
  const handed: Delivery[] = []
  const errors: string[] = []
  const consumer = new PubSubConsumer(
    contextOf(fake),
    target,
    undefined,
    { prefetch: 1, leaseMs: undefined, onError: (error) => errors.push(error.message) },
    (delivery) => {
      fake.calls.push({ handed: (delivery.raw as { ackId: string }).ackId })
      handed.push(delivery)
    },
  )
  consumer.start()
  // Both in one response, as pstest's stream sends beyond `maxOutstandingMessages`: m2 waits for m1's slot.
  fake.streams[0]?.push(streamed('m1', 'm2'))
  await vi.advanceTimersByTimeAsync(0)
  expect(handed).toHaveLength(1)
  await handed[0]?.extendLease(600_000)
  const close = async () => {
    vi.useRealTimers()
    const closing = consumer.close()
    fake.releasePulls()
    await closing
  }
  return { fake, handed, errors, close }
}

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

  // A message waiting for a slot used to keep the deadline it came with: past it, the server delivered it
  // again (an attempt more) and the consumer still handed it and acked it with its dead ack id.
  it('keeps a waiting message alive and hands it with a whole lease, however long it waited', async () => {
    const { fake, handed, close } = await fullConsumer()
    try {
      await vi.advanceTimersByTimeAsync(40_000)
      await handed[0]?.ack()
      await vi.advanceTimersByTimeAsync(0)
      expect(handed).toHaveLength(2)
      await handed[1]?.ack()
      await vi.advanceTimersByTimeAsync(0)
      expect(callsFor(fake.calls, 'm2:1')).toEqual([
        { modifyAckDeadline: ['m1:1', 'm2:1'], seconds: 30 },
        // Renewed halfway through each deadline, 15 s and 30 s after it came.
        { modifyAckDeadline: ['m2:1'], seconds: 30 },
        { modifyAckDeadline: ['m2:1'], seconds: 30 },
        // 20 s of that deadline left when m1 is acked: the lease is set anew.
        { modifyAckDeadline: ['m2:1'], seconds: 30 },
        { handed: 'm2:1' },
        { acknowledge: ['m2:1'] },
      ])
    } finally {
      await close()
    }
  })

  it('gives back a waiting message whose deadline ran out instead of handing it with a dead ack id', async () => {
    const { fake, handed, errors, close } = await fullConsumer()
    try {
      // The clock moves 31 s and no timer runs: a process stalled past the deadline, which no renewal could help.
      vi.setSystemTime(Date.now() + 31_000)
      await handed[0]?.ack()
      await vi.advanceTimersByTimeAsync(0)
      expect(handed).toHaveLength(1)
      expect(callsFor(fake.calls, 'm2:1')).toEqual([
        { modifyAckDeadline: ['m1:1', 'm2:1'], seconds: 30 },
        { modifyAckDeadline: ['m2:1'], seconds: 0 },
      ])
      expect(errors).toEqual([])
    } finally {
      await close()
    }
  })

  // At concurrency 1 every message fills the consumer: a stream ended each time would be a stream per message.
  it('changes the ack deadline of at most 1,000 messages per call, and of every message it holds', async () => {
    const fake = fakeSubscriber()
    const handed: Delivery[] = []
    const consumer = new PubSubConsumer(contextOf(fake), target, undefined, { prefetch: 1, leaseMs: undefined, onError: () => {} }, (delivery) =>
      handed.push(delivery),
    )
    consumer.start()
    const ids = Array.from({ length: 2_500 }, (_, index) => `m${index}`)
    fake.streams[0]?.push(streamed(...ids))
    for (let tries = 0; tries < 200 && handed.length === 0; tries++) await new Promise((resolve) => setTimeout(resolve, 10))
    expect(handed).toHaveLength(1)
    const closing = consumer.close()
    fake.releasePulls()
    await closing
    const modifies = fake.calls.filter((call): call is { modifyAckDeadline: string[]; seconds: number } => 'modifyAckDeadline' in (call as object))
    expect(Math.max(...modifies.map((call) => call.modifyAckDeadline.length))).toBeLessThanOrEqual(1_000)
    // Each got its lease on receipt, and all (the unsettled handed one too) were given back (deadline 0) on close.
    expect(new Set(modifies.filter((call) => call.seconds === 30).flatMap((call) => call.modifyAckDeadline)).size).toBe(2_500)
    expect(new Set(modifies.filter((call) => call.seconds === 0).flatMap((call) => call.modifyAckDeadline)).size).toBe(2_500)
  })

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
