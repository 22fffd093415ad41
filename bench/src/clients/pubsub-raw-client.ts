import type { BenchBody } from '@anymq/cli'
import { type Message, PubSub, type Subscription, type Topic, v1 } from '@google-cloud/pubsub'
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

/**
 * A topic and its subscription with what anymq's queue subscriptions have: message ordering (per-key
 * order) and a dead-letter policy (the service counts delivery attempts only with one). On pstest
 * both cost server time on every pull and delivery tick, so leaving them out would flatter the raw side.
 */
async function ensure(topic: Topic, subscription: string): Promise<void> {
  const exists = (error: { code?: number }) => {
    if (error.code !== 6) throw error // 6 = ALREADY_EXISTS
  }
  const deadLetters = topic.pubsub.topic(`${topic.name.split('/').pop()}-dead`)
  await Promise.all([topic.create().catch(exists), deadLetters.create().catch(exists)])
  await topic
    .createSubscription(subscription, {
      enableMessageOrdering: true,
      deadLetterPolicy: { deadLetterTopic: deadLetters.name, maxDeliveryAttempts: 100 },
    })
    .catch(exists)
}

type ReceivedMessages = Array<{ ackId?: string | null; message?: { data?: Uint8Array | string | null } | null }> | null | undefined

/** Most messages one synchronous Pull asks for (the adapter's default `maxPull`). */
const maxPull = 100

/**
 * Google's synchronous-pull pattern on the generated client: Pull up to the free slots (at most
 * `concurrency` unacknowledged), handle, one Acknowledge call for what a pull brought. Used for the
 * consume cells because pstest's StreamingPull hands each stream one message per 10 ms tick
 * (an unbuffered channel per stream and a delivery loop that stops at the first message no stream
 * takes: `pstest/fake.go`, `subscription.deliver` and `stream.sendLoop`), about 130 msg/s whatever
 * the client does; unary Pull returns up to `maxMessages` at once.
 */
async function pullLoop(subscriber: v1.SubscriberClient, subscription: string, concurrency: number, handle: (data: Buffer) => void): Promise<Running> {
  let stopped = false
  let unacked = 0
  let wake: (() => void) | undefined
  const loop = (async () => {
    while (!stopped) {
      const free = concurrency - unacked
      if (free <= 0) {
        await new Promise<void>((resolve) => {
          wake = resolve
        })
        continue
      }
      let received: ReceivedMessages
      try {
        const [response] = await subscriber.pull({ subscription, maxMessages: Math.min(free, maxPull) })
        received = response.receivedMessages
      } catch {
        // A lost connection: the harness reports the run incomplete if it does not come back.
        await new Promise((resolve) => setTimeout(resolve, 100))
        continue
      }
      if (!received || received.length === 0) continue
      const ackIds: string[] = []
      for (const item of received) {
        const data = item.message?.data as Uint8Array
        handle(Buffer.isBuffer(data) ? data : Buffer.from(data))
        ackIds.push(item.ackId as string)
      }
      unacked += ackIds.length
      void subscriber.acknowledge({ subscription, ackIds }).finally(() => {
        unacked -= ackIds.length
        const resume = wake
        wake = undefined
        resume?.()
      })
    }
  })()
  return {
    close: async () => {
      stopped = true
      wake?.()
      await loop
    },
  }
}

/**
 * `@google-cloud/pubsub` as its README teaches, with anymq's guarantees: a topic and one subscription
 * per queue; a send resolves when the publish call returns the message id (the client's default
 * batching); a batch is every publish at once; the consumer is synchronous Pull (see {@link pullLoop})
 * with at most `concurrency` messages unacknowledged and the ack after the handler. Request/reply: a
 * request topic with one subscription, a reply topic per requester, a correlation id in the
 * attributes, both read with the streaming-pull `message` event (lowest latency on pstest, whose
 * empty unary Pull waits a fixed 500 ms).
 */
export async function pubsubRawClient(url: string): Promise<BenchClient> {
  const pubsub = pubsubFor(url)
  const { port, ...config } = await pubsub.getClientConfig()
  const subscriber = new v1.SubscriberClient({ ...config, port: port === undefined ? undefined : Number(port) })
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
  // Per responder name: the harness deletes each run's topics (the reply topic too) after the run.
  let replies: { name: string; topic: string; waiting: Map<string, (body: BenchBody) => void>; running: Running } | undefined
  let nextCorrelation = 0
  return {
    side: 'raw',
    description:
      '@google-cloud/pubsub 5: topic.publishMessage (default batching), synchronous Pull + Acknowledge after handling; request/reply on streaming pull',
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
    consume: async (queue, concurrency, handle) => pullLoop(subscriber, pubsub.subscription(`${queue}-sub`).name, concurrency, (data) => handle(decode(data))),
    async serve(name) {
      await ensure(topicOf(name), `${name}-sub`)
      return subscribe(name, 16, (message) => {
        const { replyTo, correlationId } = message.attributes
        void topicOf(replyTo as string)
          .publishMessage({ data: message.data, attributes: { correlationId: correlationId as string } })
          .then(
            () => message.ack(),
            () => message.nack(),
          )
      })
    },
    async request(name, body) {
      if (replies?.name !== name) {
        await replies?.running.close()
        const topic = `${name}-replies-${Math.random().toString(36).slice(2, 8)}`
        await ensure(topicOf(topic), `${topic}-sub`)
        const waiting = new Map<string, (body: BenchBody) => void>()
        const running = await subscribe(topic, 64, (message) => {
          message.ack()
          const correlationId = message.attributes.correlationId as string
          waiting.get(correlationId)?.(decode(message.data))
          waiting.delete(correlationId)
        })
        replies = { name, topic, waiting, running }
      }
      const correlationId = String(nextCorrelation++)
      const waiting = replies.waiting
      const reply = new Promise<BenchBody>((resolve) => waiting.set(correlationId, resolve))
      await topicOf(name).publishMessage({ data: encode(body), attributes: { replyTo: replies.topic, correlationId } })
      return reply
    },
    async close() {
      await replies?.running.close()
      await Promise.all([subscriber.close(), pubsub.close()])
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
