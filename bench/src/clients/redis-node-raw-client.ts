import type { BenchBody } from '@anymq/cli'
import { createClient } from '@redis/client'
import type { BenchClient, Running } from '../bench-client.js'

const group = 'bench'
type Client = ReturnType<typeof createClient>
type StreamReply = Array<{ name: string; messages: Array<{ id: string; message: Record<string, string> }> }> | null

/** Connection errors surface as failed commands; without a listener node-redis throws each one. */
function quiet(client: Client): Client {
  client.on('error', () => {})
  return client
}

const decode = (fields: Record<string, string>): BenchBody => JSON.parse(fields.body as string) as BenchBody

/**
 * node-redis (@redis/client 6, the client of the `redis` package, its defaults: RESP3, commands of one
 * tick pipelined) on Redis Streams as an experienced user would write it, with anymq's guarantees and
 * the same shape as the raw ioredis client: XADD per send (resolves on the reply), a pipeline of XADDs
 * per batch; a consumer group read with a blocking XREADGROUP on a connection of its own
 * (`duplicate()`), at most `concurrency` entries unacked, and XACK + XDEL of the handled entries.
 * Request/reply: a request stream with a group, a reply stream per requester read with XREAD BLOCK.
 */
export async function redisNodeRawClient(url: string): Promise<BenchClient> {
  const commands = quiet(createClient({ url }))
  await commands.connect()
  const blockingConnections = new Set<Client>()
  const created = new Set<string>()
  const openBlocking = async () => {
    const blocking = quiet(commands.duplicate())
    await blocking.connect()
    blockingConnections.add(blocking)
    return blocking
  }
  const createGroup = async (stream: string) => {
    if (created.has(stream)) return
    await commands.xGroupCreate(stream, group, '0', { MKSTREAM: true }).catch((error: Error) => {
      if (!/BUSYGROUP/.test(error.message)) throw error
    })
    created.add(stream)
  }
  const readGroup = async (stream: string, concurrency: number, handle: (fields: Record<string, string>) => Promise<void> | void): Promise<Running> => {
    await createGroup(stream)
    const blocking = await openBlocking()
    let running = true
    let inflight = 0
    let slotFreed: (() => void) | undefined
    let acks: string[] = []
    const flushAcks = () => {
      const ids = acks
      acks = []
      if (ids.length > 0) void commands.multi().xAck(stream, group, ids).xDel(stream, ids).execAsPipeline()
    }
    const loop = (async () => {
      while (running) {
        if (inflight >= concurrency) {
          await new Promise<void>((resolve) => (slotFreed = resolve))
          continue
        }
        const reply = (await blocking
          .xReadGroup(group, 'consumer', { key: stream, id: '>' }, { COUNT: concurrency - inflight, BLOCK: 200 })
          .catch(() => null)) as StreamReply
        for (const { messages } of reply ?? []) {
          for (const { id, message } of messages) {
            inflight++
            void (async () => {
              await handle(message)
              if (acks.length === 0) setImmediate(flushAcks)
              acks.push(id)
              inflight--
              const wake = slotFreed
              slotFreed = undefined
              wake?.()
            })()
          }
        }
      }
    })()
    return {
      close: async () => {
        running = false
        slotFreed?.()
        await loop
        flushAcks()
        blockingConnections.delete(blocking)
        blocking.destroy()
      },
    }
  }
  let replies: { stream: string; waiting: Map<string, (body: BenchBody) => void>; close: () => void } | undefined
  let nextCorrelation = 0
  return {
    side: 'raw',
    description: 'node-redis (@redis/client 6): XADD, XREADGROUP BLOCK on its own connection, XACK + XDEL after handling',
    async prepare(stream, warmUp) {
      await createGroup(stream)
      await commands.xAdd(stream, '*', { body: JSON.stringify(warmUp) })
    },
    async send(stream, body) {
      await commands.xAdd(stream, '*', { body: JSON.stringify(body) })
    },
    async sendBatch(stream, bodies) {
      const pipeline = commands.multi()
      for (const body of bodies) pipeline.xAdd(stream, '*', { body: JSON.stringify(body) })
      await pipeline.execAsPipeline()
    },
    consume: (stream, concurrency, handle) => readGroup(stream, concurrency, (fields) => handle(decode(fields))),
    serve: (stream) =>
      readGroup(stream, 1, async (fields) => {
        await commands.xAdd(fields.replyTo as string, '*', { body: fields.body as string, correlationId: fields.correlationId as string })
      }),
    async request(stream, body) {
      if (replies && !replies.stream.startsWith(`${stream}:`)) {
        replies.close()
        replies = undefined
      }
      if (!replies) {
        const replyStream = `${stream}:replies:${Math.random().toString(36).slice(2, 8)}`
        const waiting = new Map<string, (body: BenchBody) => void>()
        const blocking = await openBlocking()
        let running = true
        let lastId = '0-0'
        void (async () => {
          while (running) {
            const reply = (await blocking.xRead({ key: replyStream, id: lastId }, { COUNT: 1000, BLOCK: 200 }).catch(() => null)) as StreamReply
            for (const { messages } of reply ?? []) {
              for (const { id, message } of messages) {
                lastId = id
                const correlationId = message.correlationId as string
                waiting.get(correlationId)?.(decode(message))
                waiting.delete(correlationId)
              }
            }
          }
        })()
        await new Promise((resolve) => setTimeout(resolve, 20))
        replies = {
          stream: replyStream,
          waiting,
          close: () => {
            running = false
            blocking.destroy()
          },
        }
      }
      const inbox = replies
      const correlationId = String(nextCorrelation++)
      const reply = new Promise<BenchBody>((resolve) => inbox.waiting.set(correlationId, resolve))
      await commands.xAdd(stream, '*', { body: JSON.stringify(body), replyTo: inbox.stream, correlationId })
      return reply
    },
    async close() {
      replies?.close()
      for (const connection of blockingConnections) connection.destroy()
      await commands.close()
    },
  }
}
