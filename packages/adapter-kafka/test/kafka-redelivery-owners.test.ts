import { brokerUrl, outgoingMessage, uniqueName } from '@anymq/conformance'
import { ConfigError } from '@anymq/core'
import type { Destination, QueueSpec, Source, SubscriptionSpec } from '@anymq/core/spi'
import { describe, expect, it } from 'vitest'
import { capabilities } from '../src/kafka-adapter.js'
import { resolveSettings } from '../src/kafka-config.js'
import type { KafkaDriver } from '../src/kafka-driver.js'
import { ownersOf } from '../src/kafka-redelivery-owners.js'
import { KafkaTransport } from '../src/kafka-transport.js'
import { connectTest } from './test-connections.js'

const url = brokerUrl('ANYMQ_KAFKA_URL')

/**
 * A cluster that holds these groups and topics: it answers the two lists and records every other
 * call, which never settles (a refusal must come before anything is made).
 */
function clusterWith(groups: string[], topics: string[]) {
  const asked: string[] = []
  const warnings: string[] = []
  const logger = {
    debug() {},
    info() {},
    warn: (text: string) => warnings.push(text),
    error() {},
    child: () => logger,
  }
  const lists: Record<string, () => Promise<string[]>> = {
    listGroups: async () => groups,
    listTopics: async () => topics,
  }
  const driver = new Proxy(
    {},
    {
      get: (_target, key) =>
        typeof key === 'string' && key !== 'then'
          ? (...args: unknown[]) => {
              asked.push(key)
              return lists[key]?.(...(args as [])) ?? new Promise(() => {})
            }
          : undefined,
    },
  ) as KafkaDriver
  const transport = new KafkaTransport(driver, resolveSettings(new URL('kafka://127.0.0.1:1'), undefined, {}), logger as never, capabilities)
  return { transport, asked, warnings }
}

function queueSpec(name: string): QueueSpec {
  return { name, ordered: false, deadLetter: false, maxAttempts: 5, broker: {} }
}

function subscriptionSpec(topic: string, name: string): SubscriptionSpec {
  return { topic, name, filter: undefined, startFrom: 'latest', deadLetter: false, maxAttempts: 5, broker: {} }
}

const queue = (name: string): Source & Destination => ({ kind: 'queue', queue: queueSpec(name) })
const subscription = (topic: string, name: string): Source & Destination => ({ kind: 'subscription', subscription: subscriptionSpec(topic, name) })
const message = outgoingMessage({ id: 'm1', body: new TextEncoder().encode('{}') })
const consumeOptions = { prefetch: 1, leaseMs: undefined, onError() {} }

/** What `work` settles with within 200 ms: its error, 'resolved', or 'pending' (it went on to the broker). */
async function outcome(work: () => Promise<unknown>): Promise<unknown> {
  return Promise.race([work().then(() => 'resolved'), new Promise((resolve) => setTimeout(() => resolve('pending'), 200))]).catch((error: unknown) => error)
}

async function refusal(work: () => Promise<unknown>): Promise<ConfigError> {
  const settled = await outcome(work)
  expect(settled).toBeInstanceOf(ConfigError)
  return settled as ConfigError
}

describe('kafka redelivery topics: two destinations never share one', () => {
  it("reads every owner a redelivery topic '<key>.retry' can have", () => {
    expect(ownersOf('orders')).toEqual([{ kind: 'queue', queue: 'orders' }])
    expect(ownersOf('a.b.c')).toEqual([
      { kind: 'queue', queue: 'a.b.c' },
      { kind: 'subscription', topic: 'a', subscription: 'b.c' },
      { kind: 'subscription', topic: 'a.b', subscription: 'c' },
    ])
    // A subscription name starts with a letter or digit: 'a..b' is only subscription 'b' of topic 'a.'.
    expect(ownersOf('a..b')).toEqual([
      { kind: 'queue', queue: 'a..b' },
      { kind: 'subscription', topic: 'a.', subscription: 'b' },
    ])
  })

  it("refuses queue 't.s' at every entry point while subscription 's' of topic 't' exists, naming both, before anything is made", async () => {
    const calls: Array<[string, (transport: KafkaTransport) => Promise<unknown>]> = [
      ['send', (transport) => transport.publish(queue('t.s'), [message])],
      ['consume', (transport) => transport.consume(queue('t.s'), consumeOptions, () => {})],
      ['peek', (transport) => transport.peek(queueSpec('t.s'), 10)],
      ['move', (transport) => transport.move(queueSpec('t.s'), queue('elsewhere'), 10, (m) => ({ ...message, id: m.id }))],
      ['purge', (transport) => transport.admin.purge(queue('t.s'))],
    ]
    for (const [what, call] of calls) {
      const { transport, asked } = clusterWith(['anymq:subscription:t:s'], ['t', 't.s.retry'])
      const error = await refusal(() => call(transport))
      expect(error.problems, what).toEqual([
        {
          field: 'queue.name',
          message: expect.stringMatching(
            /^queue 't\.s' and subscription 's' of topic 't' would share the Kafka topic 't\.s\.retry' .*subscription 's' of topic 't' exists \(consumer group 'anymq:subscription:t:s'\)\. A queue may not be named '<topic>\.<subscription>' of an existing subscription/,
          ),
        },
      ])
      expect(asked.sort(), what).toEqual(['listGroups', 'listTopics'])
    }
  })

  it("refuses subscription 's' of topic 't' while queue 't.s' exists: consumed (its group) or only sent to (its two topics)", async () => {
    for (const [groups, topics, evidence] of [
      [['anymq:queue:t.s'], ['t.s', 't.s.retry'], "consumer group 'anymq:queue:t.s'"],
      [[], ['t.s', 't.s.retry'], "topics 't.s' and 't.s.retry'"],
    ] as const) {
      for (const call of [
        (transport: KafkaTransport) => transport.consume(subscription('t', 's'), consumeOptions, () => {}),
        (transport: KafkaTransport) => transport.publish(subscription('t', 's'), [message]),
      ]) {
        const { transport, asked } = clusterWith([...groups], [...topics])
        const error = await refusal(() => call(transport))
        expect(error.problems[0]?.field).toBe('subscription.name')
        expect(error.message).toContain(`subscription 's' of topic 't' and queue 't.s' would share the Kafka topic 't.s.retry'`)
        expect(error.message).toContain(`queue 't.s' exists (${evidence})`)
        expect(asked.sort()).toEqual(['listGroups', 'listTopics'])
      }
    }
  })

  it("refuses subscription 'b.c' of topic 'a' while subscription 'c' of topic 'a.b' exists", async () => {
    const { transport } = clusterWith(['anymq:subscription:a.b:c'], ['a.b', 'a.b.c.retry'])
    const error = await refusal(() => transport.consume(subscription('a', 'b.c'), consumeOptions, () => {}))
    expect(error.message).toContain("subscription 'b.c' of topic 'a' and subscription 'c' of topic 'a.b' would share the Kafka topic 'a.b.c.retry'")
  })

  it('refuses the second of two destinations used on one connection before the cluster shows the first', async () => {
    const { transport, asked } = clusterWith([], [])
    void transport.publish(queue('t.s'), [message])
    const error = await refusal(() => transport.consume(subscription('t', 's'), consumeOptions, () => {}))
    expect(error.message).toContain("queue 't.s' exists (used on this connection)")
    // The queue's own check asked the cluster once; the subscription asked nothing.
    expect(asked.filter((call) => call === 'listGroups')).toEqual(['listGroups'])
  })

  it('takes a destination that is alone on its redelivery topic, and asks the cluster only once per connection', async () => {
    // Topic 't.s' with a subscription of its own is a topic, not a queue; subscription 's' of topic 't' made 't.s.retry'.
    for (const [groups, topics] of [
      [[], ['t']],
      [['anymq:subscription:t.s:audit'], ['t', 't.s', 't.s.retry']],
      [['anymq:subscription:t:s'], ['t', 't.s', 't.s.retry']],
    ] as const) {
      const { transport, asked } = clusterWith([...groups], [...topics])
      expect(await outcome(() => transport.consume(subscription('t', 's'), consumeOptions, () => {}))).toBe('pending')
      expect(asked).toContain('createTopics')
      void transport.publish(queue('q'), [message])
      void transport.publish(queue('q'), [message])
      await new Promise((resolve) => setTimeout(resolve, 50))
      expect(asked.filter((call) => call === 'listGroups')).toEqual(['listGroups', 'listGroups'])
    }
  })
})

describe('kafka redelivery topics shared before this check', () => {
  it('keeps a queue and a subscription that both have their group running as before, and warns naming both', async () => {
    for (const call of [
      (transport: KafkaTransport) => transport.consume(subscription('t', 's'), consumeOptions, () => {}),
      (transport: KafkaTransport) => transport.publish(queue('t.s'), [message]),
    ]) {
      const { transport, asked, warnings } = clusterWith(['anymq:queue:t.s', 'anymq:subscription:t:s'], ['t', 't.s', 't.s.retry'])
      expect(await outcome(() => call(transport))).toBe('pending')
      expect(asked).toContain('createTopics')
      expect(warnings).toEqual([
        expect.stringMatching(
          /^(queue 't\.s' and subscription 's' of topic 't'|subscription 's' of topic 't' and queue 't\.s') would share the Kafka topic 't\.s\.retry'/,
        ),
      ])
    }
  })

  it('lets one connection use both destinations of such a pair, as it did before', async () => {
    const { transport, asked, warnings } = clusterWith(['anymq:queue:t.s', 'anymq:subscription:t:s'], ['t', 't.s', 't.s.retry'])
    void transport.publish(queue('t.s'), [message])
    expect(await outcome(() => transport.consume(subscription('t', 's'), consumeOptions, () => {}))).toBe('pending')
    expect(asked.filter((call) => call === 'listGroups')).toEqual(['listGroups'])
    expect(warnings).toHaveLength(1)
  })
})

describe.skipIf(!url)(`kafka redelivery topics on a broker${!url ? ' (ANYMQ_KAFKA_URL unset: run scripts/brokers.sh up kafka)' : ''}`, () => {
  it("a queue named '<topic>.<subscription>' of an existing subscription is refused, and the subscription gets only its own messages", async () => {
    const subscriber = await connectTest(url as string)
    const other = await connectTest(url as string)
    const topic = uniqueName('owners')
    const received: unknown[] = []
    await subscriber.topic(topic).subscribe('s', (incoming) => {
      received.push(incoming.body)
    }).ready
    // Another process: the cluster, not this connection, tells.
    const refused = await other
      .queue(`${topic}.s`)
      .send({ for: 'queue' }, { delayMs: 10 })
      .catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(ConfigError)
    expect((refused as ConfigError).message).toContain(
      `queue '${topic}.s' and subscription 's' of topic '${topic}' would share the Kafka topic '${topic}.s.retry'`,
    )
    await expect(other.queue(`${topic}.s`).consume(() => {}).ready).rejects.toBeInstanceOf(ConfigError)
    await subscriber.topic(topic).publish({ for: 'subscription' })
    await expect.poll(() => received, { timeout: 20_000 }).toEqual([{ for: 'subscription' }])
    // Nothing of the queue was made: its redelivery topic is the subscription's alone.
    expect(await other.list({ prefix: topic })).toEqual([
      { kind: 'topic', name: topic },
      { kind: 'subscription', name: 's', topic },
    ])
  })

  it("a subscription whose '<topic>.<subscription>' names a queue that was only sent to is refused; the queue keeps its messages", async () => {
    const sender = await connectTest(url as string)
    const other = await connectTest(url as string)
    const topic = uniqueName('owners')
    await sender.queue(`${topic}.s`).send({ n: 1 }, { delayMs: 10 })
    const subscribing = other.topic(topic).subscribe('s', () => {})
    await expect(subscribing.ready).rejects.toThrow(
      `subscription 's' of topic '${topic}' and queue '${topic}.s' would share the Kafka topic '${topic}.s.retry'`,
    )
    const got: unknown[] = []
    const consumer = sender.queue(`${topic}.s`).consume((incoming) => {
      got.push(incoming.body)
    })
    await consumer.ready
    await expect.poll(() => got, { timeout: 20_000 }).toEqual([{ n: 1 }])
    await consumer.close()
    await sender.queue(`${topic}.s`).delete()
  })
})
