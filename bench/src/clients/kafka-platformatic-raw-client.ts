import type { BenchBody } from '@anymq/cli'
import { Admin, Consumer, type Message, type MessagesStream, Producer } from '@platformatic/kafka'
import type { BenchClient, Running } from '../bench-client.js'
import { kafkaPartitions, requestSized } from './kafka-raw-client.js'

const encode = (body: BenchBody): Buffer => Buffer.from(JSON.stringify(body))
const decode = (value: Buffer | undefined): BenchBody => JSON.parse(String(value)) as BenchBody

/** `kafka://a:9092,b:9092?x=y` → `['a:9092', 'b:9092']`. */
function brokerList(url: string): string[] {
  return (url.replace(/^kafka:\/\//, '').split(/[/?]/)[0] ?? '').split(',').filter(Boolean)
}

type Record = Message<Buffer, Buffer, Buffer, Buffer>

/**
 * @platformatic/kafka as an experienced user would write it, with anymq's guarantees: an idempotent
 * producer with acks=all, topics of 3 partitions, a consumer group reading from the beginning as a
 * stream, at most `concurrency` handlers at once, and per partition the offset after the last record
 * whose handler (and every earlier one's) returned committed every 100 ms.
 */
export async function kafkaPlatformaticRawClient(url: string): Promise<BenchClient> {
  const base = { clientId: 'anymq-bench-raw-platformatic', bootstrapBrokers: brokerList(url) }
  const admin = new Admin(base)
  const producer = new Producer({ ...base, idempotent: true, acks: -1, autocreateTopics: false })
  const created = new Set<string>()
  const createTopic = async (topic: string, partitions = kafkaPartitions) => {
    if (created.has(topic)) return
    if (!(await admin.listTopics()).includes(topic)) await admin.createTopics({ topics: [topic], partitions, replicas: 1 })
    for (;;) {
      const metadata = await admin.metadata({ topics: [topic], forceUpdate: true })
      if (metadata.topics.get(topic)?.partitions.every((partition) => partition.leader >= 0)) break
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    created.add(topic)
  }
  const send = async (topic: string, bodies: BenchBody[], headers?: Map<Buffer, Buffer>) => {
    const messages = bodies.map((body) => ({ topic, value: encode(body), headers }))
    // Split like the kafkajs raw client and anymq's publisher: 100 records of 64 KB in one request
    // failed with "Producing messages failed" (over message.max.bytes).
    await Promise.all(requestSized(messages).map((slice) => producer.send({ messages: slice })))
  }
  const consumers = new Set<Consumer>()
  const startConsumer = async (topic: string, groupId: string, concurrency: number, handle: (record: Record) => Promise<void> | void): Promise<Running> => {
    // The fetch sizes anymq's platformatic driver asks for (1 MiB per partition, 4 MiB per response), not
    // the library's 50 MiB: the library parses a large response dearer per record (a 1 KB record cost the
    // raw side ~7–11 µs of CPU with 50 MiB and ~5 µs with these, bench/kafka-consume.mjs), so the two sides
    // differed in a setting rather than in what each client costs.
    const consumer = new Consumer({
      ...base,
      groupId,
      maxWaitTime: 100,
      sessionTimeout: 10_000,
      heartbeatInterval: 1000,
      autocommit: false,
      maxBytes: 4 * 1_048_576,
      maxBytesPerPartition: 1_048_576,
    })
    consumers.add(consumer)
    const joined = new Promise<void>((resolve) => consumer.once('consumer:group:join', () => resolve()))
    const stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> = await consumer.consume({ topics: [topic], mode: 'committed', fallbackMode: 'earliest' })
    await joined
    // Per partition: offsets in flight in order, and which are done; commit the contiguous done prefix.
    const pending = new Map<number, { order: bigint[]; done: Set<bigint>; head: number; commit: bigint | undefined }>()
    let running = 0
    const settle = (record: Record) => {
      const state = pending.get(record.partition)
      if (!state) return
      state.done.add(record.offset)
      while (state.head < state.order.length && state.done.has(state.order[state.head] as bigint)) {
        const offset = state.order[state.head++] as bigint
        state.done.delete(offset)
        state.commit = offset + 1n
      }
      if (state.head > 4096) {
        state.order.splice(0, state.head)
        state.head = 0
      }
    }
    const committed = new Map<number, bigint>()
    const timer = setInterval(() => {
      const offsets = []
      for (const [partition, state] of pending) {
        if (state.commit !== undefined && state.commit !== committed.get(partition)) {
          offsets.push({ topic, partition, offset: state.commit, leaderEpoch: -1 })
          committed.set(partition, state.commit)
        }
      }
      if (offsets.length > 0) consumer.commit({ offsets }).catch(() => {})
    }, 100)
    stream.on('data', (record: Record) => {
      let state = pending.get(record.partition)
      if (!state) {
        state = { order: [], done: new Set(), head: 0, commit: undefined }
        pending.set(record.partition, state)
      }
      state.order.push(record.offset)
      running++
      if (running >= concurrency) stream.pause()
      const finish = () => {
        settle(record)
        if (running-- >= concurrency) stream.resume()
      }
      try {
        const result = handle(record)
        if (result) result.then(finish, finish)
        else finish()
      } catch {
        finish()
      }
    })
    return {
      close: async () => {
        clearInterval(timer)
        consumers.delete(consumer)
        await stream.close().catch(() => {})
        await consumer.close(true).catch(() => {})
      },
    }
  }
  let groupNumber = 0
  let replies: { topic: string; waiting: Map<string, (body: BenchBody) => void>; consumer: Running } | undefined
  let nextCorrelation = 0
  const header = (record: Record, name: string) => {
    for (const [key, value] of record.headers) if (key.toString() === name) return value.toString()
    return ''
  }
  return {
    side: 'raw',
    description:
      '@platformatic/kafka 2.12: idempotent producer acks=all, 3 partitions, consumer group as a stream, at most `concurrency` handlers, contiguous handled offsets committed every 100 ms',
    async prepare(topic, warmUp) {
      await createTopic(topic)
      await send(topic, [warmUp])
    },
    send: (topic, body) => send(topic, [body]),
    sendBatch: (topic, bodies) => send(topic, bodies),
    consume: (topic, concurrency, handle) => startConsumer(topic, `${topic}.group`, concurrency, (record) => handle(decode(record.value))),
    async serve(topic) {
      await createTopic(topic)
      return startConsumer(topic, `${topic}.responders`, 1, async (record) => {
        const headers = new Map([[Buffer.from('correlationId'), Buffer.from(header(record, 'correlationId'))]])
        await send(header(record, 'replyTo'), [decode(record.value)], headers)
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
        const consumer = await startConsumer(replyTopic, `${replyTopic}.group`, 1000, (record) => {
          const correlationId = header(record, 'correlationId')
          waiting.get(correlationId)?.(decode(record.value))
          waiting.delete(correlationId)
        })
        replies = { topic: replyTopic, waiting, consumer }
      }
      const correlationId = String(nextCorrelation++)
      const inbox = replies
      const reply = new Promise<BenchBody>((resolve) => inbox.waiting.set(correlationId, resolve))
      const headers = new Map([
        [Buffer.from('correlationId'), Buffer.from(correlationId)],
        [Buffer.from('replyTo'), Buffer.from(inbox.topic)],
      ])
      await send(topic, [body], headers)
      return reply
    },
    async close() {
      await replies?.consumer.close()
      for (const consumer of consumers) await consumer.close(true).catch(() => {})
      await producer.close()
      await admin.close()
    },
  }
}
