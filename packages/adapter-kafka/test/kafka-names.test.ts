import { brokerUrl, outgoingMessage, uniqueName } from '@anymq/conformance'
import { ConfigError } from '@anymq/core'
import type { Destination, QueueSpec, Source, SubscriptionSpec } from '@anymq/core/spi'
import { describe, expect, it } from 'vitest'
import { capabilities } from '../src/kafka-adapter.js'
import { resolveSettings } from '../src/kafka-config.js'
import type { KafkaDriver } from '../src/kafka-driver.js'
import { assertTopicName } from '../src/kafka-names.js'
import { KafkaTransport } from '../src/kafka-transport.js'
import { connectTest } from './test-connections.js'

const url = brokerUrl('ANYMQ_KAFKA_URL')
const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent }

/** A driver that records every method asked of it and answers nothing: a refusal must come before any. */
function recordingDriver() {
  const asked: string[] = []
  const driver = new Proxy(
    {},
    {
      get: (_target, key) =>
        typeof key === 'string' && key !== 'then'
          ? (..._args: unknown[]) => {
              asked.push(key)
              return new Promise(() => {})
            }
          : undefined,
    },
  ) as KafkaDriver
  return { driver, asked }
}

function queueSpec(name: string): QueueSpec {
  return { name, ordered: false, deadLetter: false, maxAttempts: 5, broker: {} }
}

function subscriptionSpec(topic: string, name: string): SubscriptionSpec {
  return { topic, name, filter: undefined, startFrom: 'latest', deadLetter: false, maxAttempts: 5, broker: {} }
}

const message = outgoingMessage({ id: 'm1', body: new TextEncoder().encode('{}') })

const consumeOptions = { prefetch: 1, leaseMs: undefined, onError() {} }

async function refusal(what: string, work: () => Promise<unknown>): Promise<ConfigError> {
  const outcome = await Promise.race([work().then(() => 'resolved'), new Promise((resolve) => setTimeout(() => resolve('pending'), 200))]).catch(
    (error: unknown) => error,
  )
  expect(outcome, what).toBeInstanceOf(ConfigError)
  return outcome as ConfigError
}

describe("kafka names: '.retry' is reserved for redelivery topics", () => {
  it('names the field and says what is allowed', () => {
    let caught: unknown
    try {
      assertTopicName('orders.retry', 'queue')
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(ConfigError)
    expect((caught as ConfigError).problems).toEqual([
      {
        field: 'queue.name',
        message: expect.stringMatching(/^'orders\.retry' ends in '\.retry': names ending in '\.retry' are reserved on Kafka for the redelivery topics/),
      },
    ])
    expect(() => assertTopicName('t.s.retry', 'topic')).toThrow(/topic\.name: 't\.s\.retry' ends in '\.retry'/)
    for (const name of ['orders', 'retry', 'orders-retry', 'orders.retrying', 'orders.retry.v2']) expect(() => assertTopicName(name, 'queue')).not.toThrow()
  })

  it('refuses a queue or topic named like a redelivery topic at every entry point, before the broker is asked anything', async () => {
    const { driver, asked } = recordingDriver()
    const transport = new KafkaTransport(driver, resolveSettings(new URL('kafka://127.0.0.1:1'), undefined, {}), silent as never, capabilities)
    // Queue `orders.retry` is queue orders' redelivery topic; topic `t.s.retry` is subscription s of topic t's.
    const queue: Source & Destination = { kind: 'queue', queue: queueSpec('orders.retry') }
    const subscription: Source & Destination = { kind: 'subscription', subscription: subscriptionSpec('t.s.retry', 'audit') }
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['send to the queue', () => transport.publish(queue, [message])],
      ['publish to the topic', () => transport.publish({ kind: 'topic', topic: 't.s.retry' }, [message])],
      ['send into a subscription of the topic', () => transport.publish(subscription, [message])],
      ['consume the queue', () => transport.consume(queue, consumeOptions, () => {})],
      ['subscribe to the topic', () => transport.consume(subscription, consumeOptions, () => {})],
      ['peek at the queue', () => transport.peek(queueSpec('orders.retry'), 10)],
      [
        'move from the queue',
        () => transport.move(queueSpec('orders.retry'), { kind: 'queue', queue: queueSpec('elsewhere') }, 10, (m) => ({ ...message, id: m.id })),
      ],
      ['stats of the queue', () => transport.admin.stats(queue)],
      ['purge the queue', () => transport.admin.purge(queue)],
      ['purge the subscription', () => transport.admin.purge(subscription)],
      ['delete the queue', () => transport.admin.remove(queue)],
      ['delete the topic', () => transport.admin.remove({ kind: 'topic', topic: 't.s.retry' })],
    ]
    for (const [what, call] of calls) {
      const error = await refusal(what, call)
      expect(
        error.problems.map((problem) => problem.field),
        what,
      ).toEqual([expect.stringMatching(/^(queue|topic)\.name$/)])
    }
    expect(asked).toEqual([])
  })

  it('still takes a subscription whose own name ends in .retry: it is not a topic', async () => {
    const { driver, asked } = recordingDriver()
    const transport = new KafkaTransport(driver, resolveSettings(new URL('kafka://127.0.0.1:1'), undefined, {}), silent as never, capabilities)
    void transport.publish({ kind: 'subscription', subscription: subscriptionSpec('t', 'audit.retry') }, [message])
    await new Promise((resolve) => setImmediate(resolve))
    // Not refused: it goes on to ask the cluster whether another destination holds its redelivery topic.
    expect(asked.sort()).toEqual(['listGroups', 'listTopics'])
  })
})

describe.skipIf(!url)(`kafka names on a broker${!url ? ' (ANYMQ_KAFKA_URL unset: run scripts/brokers.sh up kafka)' : ''}`, () => {
  it("a send to queue 'X.retry' is refused and never reaches queue X's redelivery topic", async () => {
    const mq = await connectTest(url as string)
    const name = uniqueName('reserved')
    await mq.queue(name).send({ n: 1 })
    const refused = await mq
      .queue(`${name}.retry`)
      .send({ n: 2 })
      .catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(ConfigError)
    expect((refused as ConfigError).message).toMatch(/queue\.name: '.*\.retry' ends in '\.retry': names ending in '\.retry' are reserved on Kafka/)
    const consumer = mq.queue(`${name}.retry`).consume(() => {})
    await expect(consumer.ready).rejects.toBeInstanceOf(ConfigError)
    const subscriber = mq.topic(`${name}.s.retry`).subscribe('s', () => {})
    await expect(subscriber.ready).rejects.toBeInstanceOf(ConfigError)
    // Queue X's redelivery topic holds nothing: the refused send wrote nowhere.
    expect((await mq.queue(name).stats()).ready).toBe(1)
    await mq.queue(name).delete()
  })

  it("a topic name Kafka refuses ('a_b' next to 'a.b') is a ConfigError, not a connection failure", async () => {
    const mq = await connectTest(url as string)
    const name = uniqueName('collide')
    await mq.queue(`${name}.a`).send({ n: 1 })
    const refused = await mq
      .queue(`${name}_a`)
      .send({ n: 1 })
      .catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(ConfigError)
    expect((refused as ConfigError).isRetryable).toBe(false)
    expect((refused as ConfigError).message).toMatch(/'a\.b' and 'a_b' cannot both exist/)
    await mq.queue(`${name}.a`).delete()
  })
})
