import type { BenchBody } from '@anymq/cli'
import { type Consumer, Kafka, logLevel } from 'kafkajs'
import type { BenchClient, Running } from '../bench-client.js'

const encode = (body: BenchBody): Buffer => Buffer.from(JSON.stringify(body))
const decode = (value: Buffer | null): BenchBody => JSON.parse(String(value)) as BenchBody

/** `kafka://a:9092,b:9092?x=y` → `['a:9092', 'b:9092']`. */
function brokerList(url: string): string[] {
  return (url.replace(/^kafka:\/\//, '').split(/[/?]/)[0] ?? '').split(',').filter(Boolean)
}

/** Topics of the raw side get as many partitions as anymq's topics (the adapter's default, 3). */
export const kafkaPartitions = 3

/**
 * Records cut into runs of at most ~900 KB of values, in order: one produce request must stay under the
 * broker's message.max.bytes (1 MB by default), as anymq's publisher keeps it.
 */
export function requestSized<T extends { value: Buffer }>(messages: T[]): T[][] {
  const slices: T[][] = []
  for (let first = 0, bytes = 0, index = 0; index <= messages.length; index++) {
    const size = index < messages.length ? (messages[index]?.value.length ?? 0) + 100 : 0
    if (index === messages.length || (bytes + size > 900_000 && index > first)) {
      slices.push(messages.slice(first, index))
      first = index
      bytes = 0
    }
    bytes += size
  }
  return slices
}

/** Waits until fewer than `limit` tasks run; a tiny semaphore shared by a consumer's partitions. */
class Slots {
  private running = 0
  private waiting: (() => void)[] = []
  constructor(private readonly limit: number) {}
  async take(): Promise<void> {
    while (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve))
    this.running++
  }
  give(): void {
    this.running--
    this.waiting.shift()?.()
  }
}

/**
 * kafkajs as an experienced user would write it, with anymq's guarantees: acks=all on every send
 * (pipelined, not idempotent: kafkajs allows only one request in flight with idempotence), topics of
 * 3 partitions, a consumer group reading from the beginning with eachBatch, at most `concurrency`
 * handlers at once across partitions, offsets resolved and committed only after the handlers ran.
 */
export async function kafkaRawClient(url: string): Promise<BenchClient> {
  const kafka = new Kafka({ clientId: 'anymq-bench-raw', brokers: brokerList(url), logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  const producer = kafka.producer({ allowAutoTopicCreation: false })
  await producer.connect()
  const created = new Set<string>()
  const createTopic = async (topic: string, partitions = kafkaPartitions) => {
    if (created.has(topic)) return
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true })
    created.add(topic)
  }
  const send = async (topic: string, bodies: BenchBody[], headers?: Record<string, string>) => {
    const messages = bodies.map((body) => ({ value: encode(body), headers }))
    await Promise.all(requestSized(messages).map((slice) => producer.send({ topic, acks: -1, messages: slice })))
  }
  const consumers = new Set<Consumer>()
  const startConsumer = async (
    topic: string,
    groupId: string,
    concurrency: number,
    handle: (value: Buffer | null, headers: Record<string, unknown>) => Promise<void> | void,
  ): Promise<Running> => {
    const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100, sessionTimeout: 10_000, heartbeatInterval: 1000, allowAutoTopicCreation: false })
    consumers.add(consumer)
    await consumer.connect()
    await consumer.subscribe({ topic, fromBeginning: true })
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()))
    const slots = new Slots(concurrency)
    await consumer.run({
      autoCommit: true,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: kafkaPartitions,
      eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
        const running: Promise<void>[] = []
        for (const message of batch.messages) {
          if (!isRunning() || isStale()) break
          await slots.take()
          running.push(
            (async () => {
              try {
                await handle(message.value, message.headers ?? {})
              } finally {
                slots.give()
              }
            })(),
          )
        }
        await Promise.all(running)
        const last = batch.messages[running.length - 1]
        if (last) resolveOffset(last.offset)
        await commitOffsetsIfNecessary()
        await heartbeat()
      },
    })
    await joined
    return {
      close: async () => {
        consumers.delete(consumer)
        await consumer.disconnect()
      },
    }
  }
  let groupNumber = 0
  let replies: { topic: string; waiting: Map<string, (body: BenchBody) => void>; consumer: Running } | undefined
  let nextCorrelation = 0
  return {
    side: 'raw',
    description: 'kafkajs 2.2.4: acks=all, 3 partitions, consumer group with eachBatch, offsets committed after handling',
    async prepare(topic, warmUp) {
      await createTopic(topic)
      await send(topic, [warmUp])
    },
    send: (topic, body) => send(topic, [body]),
    sendBatch: (topic, bodies) => send(topic, bodies),
    consume: (topic, concurrency, handle) => startConsumer(topic, `${topic}.group`, concurrency, (value) => handle(decode(value))),
    async serve(topic) {
      await createTopic(topic)
      return startConsumer(topic, `${topic}.responders`, 1, async (value, headers) => {
        const replyTo = String(headers.replyTo)
        await send(replyTo, [decode(value)], { correlationId: String(headers.correlationId) })
      })
    },
    async request(topic, body) {
      if (replies && !replies.topic.startsWith(`${topic}.`)) {
        await replies.consumer.close()
        replies = undefined
      }
      if (!replies) {
        const replyTopic = `${topic}.replies.${groupNumber++}`
        await createTopic(replyTopic, 1)
        const waiting = new Map<string, (body: BenchBody) => void>()
        const consumer = await startConsumer(replyTopic, `${replyTopic}.group`, 1000, (value, headers) => {
          const correlationId = String(headers.correlationId)
          waiting.get(correlationId)?.(decode(value))
          waiting.delete(correlationId)
        })
        replies = { topic: replyTopic, waiting, consumer }
      }
      const correlationId = String(nextCorrelation++)
      const inbox = replies
      const reply = new Promise<BenchBody>((resolve) => inbox.waiting.set(correlationId, resolve))
      await send(topic, [body], { correlationId, replyTo: inbox.topic })
      return reply
    },
    async close() {
      await replies?.consumer.close()
      for (const consumer of consumers) await consumer.disconnect().catch(() => {})
      await producer.disconnect()
      await admin.disconnect()
    },
  }
}

/** Deletes the topics and consumer groups whose names contain `marker`. */
export async function kafkaCleanup(url: string, marker: string): Promise<void> {
  const kafka = new Kafka({ clientId: 'anymq-bench-cleanup', brokers: brokerList(url), logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  try {
    const groups = (await admin.listGroups()).groups.map((group) => group.groupId).filter((id) => id.includes(marker))
    if (groups.length > 0) await admin.deleteGroups(groups).catch(() => {})
    const topics = (await admin.listTopics()).filter((topic) => topic.includes(marker))
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 }).catch(() => {})
  } finally {
    await admin.disconnect()
  }
}
