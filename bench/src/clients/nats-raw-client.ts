import type { BenchBody } from '@anymq/cli'
import { AckPolicy, type ConsumerMessages, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream'
import { connect, type NatsConnection } from '@nats-io/transport-node'
import type { BenchClient, Running } from '../bench-client.js'

const durable = 'bench'
const encoder = new TextEncoder()
const encode = (body: BenchBody): Uint8Array => encoder.encode(JSON.stringify(body))
const decode = (data: Uint8Array): BenchBody => JSON.parse(Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('utf8')) as BenchBody

/** `nats://host:port[,host2:port]` → the servers list of the NATS client. */
function servers(url: string): string[] {
  return url
    .replace(/^nats:\/\//, '')
    .split(/[/?]/)[0]!
    .split(',')
}

/**
 * The NATS JavaScript client on JetStream as an experienced user would write it, with anymq's
 * guarantees: a file-stored work-queue stream per queue and one durable pull consumer with explicit
 * acks; a send resolves on the stream's PubAck; a batch is every publish in flight at once, then all
 * PubAcks; the consumer reads with `consume()` (at most `concurrency` unacked, set on the durable as
 * max_ack_pending) and settles each message after its handler with a confirmed ack (`ackAck`, as
 * anymq's adapter does). Request/reply: core NATS request to a queue-group subscription.
 */
export async function natsRawClient(url: string): Promise<BenchClient> {
  const connection: NatsConnection = await connect({ servers: servers(url) })
  const manager = await jetstreamManager(connection)
  const client = jetstream(connection)
  const subject = (queue: string) => `bench.${queue}`
  const declared = new Set<string>()
  const declare = async (queue: string, concurrency = 64) => {
    if (!declared.has(queue)) {
      await manager.streams.add({ name: queue, subjects: [subject(queue)], retention: RetentionPolicy.Workqueue, storage: StorageType.File })
      declared.add(queue)
    }
    await manager.consumers.add(queue, { durable_name: durable, ack_policy: AckPolicy.Explicit, max_ack_pending: concurrency })
  }
  return {
    side: 'raw',
    description: '@nats-io/jetstream 3: work-queue stream, PubAck per send, durable pull consumer with consume() and ackAck',
    async prepare(queue, warmUp) {
      await declare(queue)
      await client.publish(subject(queue), encode(warmUp))
    },
    async send(queue, body) {
      await client.publish(subject(queue), encode(body))
    },
    async sendBatch(queue, bodies) {
      await Promise.all(bodies.map((body) => client.publish(subject(queue), encode(body))))
    },
    async consume(queue, concurrency, handle): Promise<Running> {
      await manager.consumers.update(queue, durable, { max_ack_pending: concurrency })
      const consumer = await client.consumers.get(queue, durable)
      const messages: ConsumerMessages = await consumer.consume({ max_messages: concurrency })
      const loop = (async () => {
        for await (const message of messages) {
          handle(decode(message.data))
          void message.ackAck().catch(() => {})
        }
      })()
      return {
        close: async () => {
          await messages.close()
          await loop
        },
      }
    },
    async serve(name) {
      const subscription = connection.subscribe(`bench.rpc.${name}`, {
        queue: 'bench',
        callback: (error, message) => {
          if (!error) message.respond(message.data)
        },
      })
      return { close: async () => subscription.unsubscribe() }
    },
    async request(name, body) {
      const reply = await connection.request(`bench.rpc.${name}`, encode(body), { timeout: 10_000 })
      return decode(reply.data)
    },
    async close() {
      await connection.drain()
    },
  }
}

/** Deletes every stream whose name contains `marker` (anymq's and the raw side's). */
export async function natsCleanup(url: string, marker: string): Promise<void> {
  const connection = await connect({ servers: servers(url) })
  try {
    const manager = await jetstreamManager(connection)
    for await (const name of manager.streams.names()) {
      if (name.toLowerCase().includes(marker.toLowerCase())) await manager.streams.delete(name).catch(() => {})
    }
  } finally {
    await connection.close()
  }
}
