import type { BenchBody } from '@anymq/cli'
import { type Message, PubSub, type Subscription, type Topic } from '@google-cloud/pubsub'
import type { BenchClient, Running } from '../bench-client.js'

const decode = (data: Buffer): BenchBody => JSON.parse(data.toString('utf8')) as BenchBody
const encode = (body: BenchBody): Buffer => Buffer.from(JSON.stringify(body))

/** `gcp-pubsub://project?endpoint=host:port` → the PubSub client's options. */
function pubsubFor(url: string): PubSub {
  const parsed = new URL(url)
  const endpoint = parsed.searchParams.get('endpoint') ?? process.env.PUBSUB_EMULATOR_HOST
  // An emulator needs no credentials; without emulatorMode the client probes GCE metadata first.
  return new PubSub({ projectId: parsed.hostname, apiEndpoint: endpoint, emulatorMode: endpoint !== undefined })
}

async function ensure(topic: Topic, subscription: string): Promise<void> {
  await topic.create().catch((error: { code?: number }) => {
    if (error.code !== 6) throw error // 6 = ALREADY_EXISTS
  })
  await topic.createSubscription(subscription).catch((error: { code?: number }) => {
    if (error.code !== 6) throw error
  })
}

/**
 * `@google-cloud/pubsub` as its README teaches, with anymq's guarantees: a topic and one subscription
 * per queue; a send resolves when the publish call returns the message id (the client's default
 * batching); a batch is every publish at once; the consumer is the streaming-pull `message` event
 * with flow control of `concurrency` messages and `ack()` after the handler. Request/reply: a request
 * topic with one subscription, a reply topic per requester, a correlation id in the attributes.
 */
export async function pubsubRawClient(url: string): Promise<BenchClient> {
  const pubsub = pubsubFor(url)
  const topics = new Map<string, Topic>()
  const topicOf = (name: string) => {
    let topic = topics.get(name)
    if (!topic) {
      topic = pubsub.topic(name)
      topics.set(name, topic)
    }
    return topic
  }
  const subscribe = async (name: string, concurrency: number, onMessage: (message: Message) => void): Promise<Running> => {
    const subscription: Subscription = pubsub.subscription(`${name}-sub`, { flowControl: { maxMessages: concurrency, allowExcessMessages: false } })
    subscription.on('message', onMessage)
    subscription.on('error', () => {})
    return { close: () => subscription.close() }
  }
  let replies: { topic: string; waiting: Map<string, (body: BenchBody) => void>; running: Running } | undefined
  let nextCorrelation = 0
  return {
    side: 'raw',
    description: '@google-cloud/pubsub 5: topic.publishMessage (default batching), streaming pull with flow control, ack() after handling',
    async prepare(queue, warmUp) {
      await ensure(topicOf(queue), `${queue}-sub`)
      await topicOf(queue).publishMessage({ data: encode(warmUp) })
    },
    async send(queue, body) {
      await topicOf(queue).publishMessage({ data: encode(body) })
    },
    async sendBatch(queue, bodies) {
      const topic = topicOf(queue)
      await Promise.all(bodies.map((body) => topic.publishMessage({ data: encode(body) })))
    },
    consume: (queue, concurrency, handle) =>
      subscribe(queue, concurrency, (message) => {
        handle(decode(message.data))
        message.ack()
      }),
    async serve(name) {
      await ensure(topicOf(name), `${name}-sub`)
      return subscribe(name, 16, (message) => {
        const { replyTo, correlationId } = message.attributes
        void topicOf(replyTo as string)
          .publishMessage({ data: message.data, attributes: { correlationId: correlationId as string } })
          .then(() => message.ack())
      })
    },
    async request(name, body) {
      if (!replies) {
        const topic = `${name}-replies-${Math.random().toString(36).slice(2, 8)}`
        await ensure(topicOf(topic), `${topic}-sub`)
        const waiting = new Map<string, (body: BenchBody) => void>()
        const running = await subscribe(topic, 64, (message) => {
          message.ack()
          const correlationId = message.attributes.correlationId as string
          waiting.get(correlationId)?.(decode(message.data))
          waiting.delete(correlationId)
        })
        replies = { topic, waiting, running }
      }
      const correlationId = String(nextCorrelation++)
      const waiting = replies.waiting
      const reply = new Promise<BenchBody>((resolve) => waiting.set(correlationId, resolve))
      await topicOf(name).publishMessage({ data: encode(body), attributes: { replyTo: replies.topic, correlationId } })
      return reply
    },
    async close() {
      await replies?.running.close()
      await pubsub.close()
    },
  }
}

/** Deletes every topic and subscription whose name contains `marker`. */
export async function pubsubCleanup(url: string, marker: string): Promise<void> {
  const pubsub = pubsubFor(url)
  try {
    const [subscriptions] = await pubsub.getSubscriptions()
    await Promise.all(subscriptions.filter((s) => s.name.includes(marker)).map((s) => s.delete().catch(() => {})))
    const [topics] = await pubsub.getTopics()
    await Promise.all(topics.filter((t) => t.name.includes(marker)).map((t) => t.delete().catch(() => {})))
  } finally {
    await pubsub.close()
  }
}
