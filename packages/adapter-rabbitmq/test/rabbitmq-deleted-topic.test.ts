import { waitUntil } from '@anymq/conformance'
import { type Anymq, transportOf } from '@anymq/core'
import amqplib from 'amqplib'
import { describe, expect, it } from 'vitest'
import type { RabbitConnection } from '../src/rabbitmq-connection.js'
import { connectTest, uniqueName, url } from './test-connections.js'

/** Deletes an exchange from a connection anymq does not know of, as `rabbitmqctl` or another client would. */
async function deleteExchangeElsewhere(exchange: string): Promise<void> {
  const connection = await amqplib.connect(url as string)
  try {
    const channel = await connection.createChannel()
    await channel.deleteExchange(exchange)
    await channel.close()
  } finally {
    await connection.close()
  }
}

/** A named, an ephemeral and a header-filtered subscription of one topic, each recording the `n` it receives. */
async function subscribeThree(mq: Anymq, topicName: string): Promise<Record<'named' | 'ephemeral' | 'filtered', number[]>> {
  const seen = { named: [] as number[], ephemeral: [] as number[], filtered: [] as number[] }
  const topic = mq.topic<{ n: number }>(topicName)
  await topic.subscribe('named', async (message) => {
    seen.named.push(message.body.n)
  }).ready
  await topic.subscribe(undefined, async (message) => {
    seen.ephemeral.push(message.body.n)
  }).ready
  await topic.subscribe(
    'filtered',
    async (message) => {
      seen.filtered.push(message.body.n)
    },
    { filter: { headers: { region: 'eu' } } },
  ).ready
  return seen
}

const everyOne = (seen: Record<string, number[]>, accept: (n: number) => boolean) => Object.values(seen).every((ns) => ns.some(accept))

describe.skipIf(!url)('rabbitmq: a topic exchange deleted under running subscriptions', () => {
  it('the publish that finds the exchange gone binds this connection’s subscriptions again first: that very message arrives', async () => {
    const service = await connectTest()
    const name = uniqueName('gone-topic-same')
    const seen = await subscribeThree(service, name)
    const topic = service.topic<{ n: number }>(name)
    await topic.publish({ n: 0 }, { headers: { region: 'eu' } })
    await waitUntil(async () => everyOne(seen, (n) => n === 0), 10_000, 'the first message on every subscription')

    await deleteExchangeElsewhere(name)

    // Once: what the broker accepted after declaring the exchange again must reach every running subscription.
    await expect(topic.publish({ n: 1 }, { headers: { region: 'eu' } })).resolves.toBeDefined()
    await waitUntil(async () => everyOne(seen, (n) => n === 1), 10_000, 'the one message published after the delete')
  }, 30_000)

  it('subscriptions of a connection that does not publish bind again when another process declares the exchange again', async () => {
    const [subscriber, publisher] = [await connectTest(), await connectTest()]
    const name = uniqueName('gone-topic-other')
    const seen = await subscribeThree(subscriber, name)
    const topic = publisher.topic<{ n: number }>(name)
    await topic.publish({ n: 0 }, { headers: { region: 'eu' } })
    await waitUntil(async () => everyOne(seen, (n) => n === 0), 10_000, 'the first message on every subscription')

    await deleteExchangeElsewhere(name)

    // The publisher declares the exchange again at once, so the subscriber never sees it missing: only
    // its own bindings are gone. Messages published before they are back go nowhere, as to a new topic.
    let n = 0
    await waitUntil(
      async () => {
        await topic.publish({ n: ++n }, { headers: { region: 'eu' } })
        return everyOne(seen, (value) => value > 0)
      },
      20_000,
      'a message published after the delete, on every subscription',
    )
  }, 40_000)

  it('the binding check of many topics runs on one channel, and still binds again after a 404 closed it', async () => {
    const [subscriber, publisher] = [await connectTest({ bindingCheckMs: 200 }), await connectTest()]
    const names = Array.from({ length: 6 }, (_, i) => uniqueName(`check-${i}`))
    const seen = new Map(names.map((name) => [name, [] as number[]]))
    for (const name of names) {
      await subscriber.topic<{ n: number }>(name).subscribe('svc', async (message) => {
        seen.get(name)!.push(message.body.n)
      }).ready
    }
    const model = (transportOf(subscriber) as unknown as { connection: RabbitConnection }).connection.current!
    const createChannel = model.createChannel.bind(model)
    let opened = 0
    model.createChannel = async (...args: Parameters<typeof createChannel>) => {
      opened++
      return createChannel(...args)
    }
    const started = Date.now()
    await new Promise((resolve) => setTimeout(resolve, 1_100))
    const checks = Math.floor((Date.now() - started) / 200)
    // One channel per check, not one per topic (30 in this second before, 6 per check). A loaded machine runs fewer checks.
    expect(opened).toBeGreaterThanOrEqual(1)
    expect(opened).toBeLessThanOrEqual(checks + 1)

    // Two exchanges deleted and declared again by the publisher: the check's 404 closes its channel, and it goes on.
    await deleteExchangeElsewhere(names[1]!)
    await deleteExchangeElsewhere(names[4]!)
    let n = 0
    await waitUntil(
      async () => {
        n++
        for (const name of names) await publisher.topic<{ n: number }>(name).publish({ n })
        return names.every((name) => seen.get(name)!.some((value) => value > 1))
      },
      20_000,
      'a message published after the deletes, on every topic',
    )
  }, 40_000)

  it('a named subscription deleted under its running subscriber is declared and bound again by it', async () => {
    const [service, operator] = [await connectTest(), await connectTest()]
    const name = uniqueName('gone-subscription')
    const topic = service.topic<{ n: number }>(name)
    const seen: number[] = []
    await topic.subscribe('billing', async (message) => {
      seen.push(message.body.n)
    }).ready
    await topic.publish({ n: 0 })
    await waitUntil(async () => seen.includes(0), 10_000, 'the first message')

    await operator.topic(name).deleteSubscription('billing')

    // A publish to a topic is not mandatory: nothing tells the publisher, so the subscriber must declare its queue again.
    let n = 0
    await waitUntil(
      async () => {
        await topic.publish({ n: ++n })
        return seen.some((value) => value > 0)
      },
      20_000,
      'a message published after the delete',
    )
  }, 40_000)
})
