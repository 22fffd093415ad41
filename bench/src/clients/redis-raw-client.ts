import type { BenchBody } from '@anymq/cli'
import { Redis } from 'ioredis'
import type { BenchClient, Running } from '../bench-client.js'

const group = 'bench'
type Entries = [string, string[]][]
type StreamReply = [string, Entries][] | null

/** Connection errors surface as failed commands; without a listener ioredis also prints each one. */
function quiet(redis: Redis): Redis {
  redis.on('error', () => {})
  return redis
}

const decode = (fields: string[]): BenchBody => JSON.parse(fields[1] as string) as BenchBody

/**
 * ioredis on Redis Streams as an experienced user would write it, with anymq's guarantees: XADD per
 * send (resolves on the reply), a pipeline of XADDs per batch; a consumer group read with a blocking
 * XREADGROUP on a connection of its own, at most `concurrency` entries unacked, and XACK + XDEL of
 * the handled entries (a work queue does not keep what it delivered). Request/reply: a request
 * stream with a group, a reply stream per requester read with XREAD BLOCK.
 */
export async function redisRawClient(url: string): Promise<BenchClient> {
  const commands = quiet(new Redis(url, { lazyConnect: true }))
  await commands.connect()
  const blockingConnections = new Set<Redis>()
  const created = new Set<string>()
  const createGroup = async (stream: string) => {
    if (created.has(stream)) return
    await commands.xgroup('CREATE', stream, group, '0', 'MKSTREAM').catch((error: Error) => {
      if (!/BUSYGROUP/.test(error.message)) throw error
    })
    created.add(stream)
  }
  const readGroup = async (stream: string, concurrency: number, handle: (fields: string[]) => Promise<void> | void): Promise<Running> => {
    await createGroup(stream)
    const blocking = quiet(new Redis(url))
    blockingConnections.add(blocking)
    let running = true
    let inflight = 0
    let slotFreed: (() => void) | undefined
    let acks: string[] = []
    const flushAcks = () => {
      const ids = acks
      acks = []
      if (ids.length > 0)
        void commands
          .pipeline()
          .xack(stream, group, ...ids)
          .xdel(stream, ...ids)
          .exec()
    }
    const loop = (async () => {
      while (running) {
        if (inflight >= concurrency) {
          await new Promise<void>((resolve) => (slotFreed = resolve))
          continue
        }
        const reply = (await blocking
          .xreadgroup('GROUP', group, 'consumer', 'COUNT', concurrency - inflight, 'BLOCK', 200, 'STREAMS', stream, '>')
          .catch(() => null)) as StreamReply
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            inflight++
            void (async () => {
              await handle(fields)
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
        blocking.disconnect()
      },
    }
  }
  let replies: { stream: string; waiting: Map<string, (body: BenchBody) => void>; close: () => void } | undefined
  let nextCorrelation = 0
  return {
    side: 'raw',
    description: 'ioredis 6: XADD, XREADGROUP BLOCK on its own connection, XACK + XDEL after handling',
    async prepare(stream, warmUp) {
      await createGroup(stream)
      await commands.xadd(stream, '*', 'body', JSON.stringify(warmUp))
    },
    async send(stream, body) {
      await commands.xadd(stream, '*', 'body', JSON.stringify(body))
    },
    async sendBatch(stream, bodies) {
      const pipeline = commands.pipeline()
      for (const body of bodies) pipeline.xadd(stream, '*', 'body', JSON.stringify(body))
      const results = await pipeline.exec()
      for (const [error] of results ?? []) if (error) throw error
    },
    consume: (stream, concurrency, handle) => readGroup(stream, concurrency, (fields) => handle(decode(fields))),
    serve: (stream) =>
      readGroup(stream, 1, async (fields) => {
        const replyTo = fields[3] as string
        await commands.xadd(replyTo, '*', 'body', fields[1] as string, 'correlationId', fields[5] as string)
      }),
    async request(stream, body) {
      if (replies && !replies.stream.startsWith(`${stream}:`)) {
        replies.close()
        replies = undefined
      }
      if (!replies) {
        const replyStream = `${stream}:replies:${Math.random().toString(36).slice(2, 8)}`
        const waiting = new Map<string, (body: BenchBody) => void>()
        const blocking = quiet(new Redis(url))
        blockingConnections.add(blocking)
        let running = true
        let lastId = '0-0'
        void (async () => {
          while (running) {
            const reply = (await blocking.xread('COUNT', 1000, 'BLOCK', 200, 'STREAMS', replyStream, lastId).catch(() => null)) as StreamReply
            for (const [, entries] of reply ?? []) {
              for (const [id, fields] of entries) {
                lastId = id
                const correlationId = fields[3] as string
                waiting.get(correlationId)?.(decode(fields))
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
            blocking.disconnect()
          },
        }
      }
      const inbox = replies
      const correlationId = String(nextCorrelation++)
      const reply = new Promise<BenchBody>((resolve) => inbox.waiting.set(correlationId, resolve))
      await commands.xadd(stream, '*', 'body', JSON.stringify(body), 'replyTo', inbox.stream, 'correlationId', correlationId)
      return reply
    },
    async close() {
      replies?.close()
      for (const connection of blockingConnections) connection.disconnect()
      await commands.quit()
    },
  }
}

/** Deletes every key whose name contains `marker`. */
export async function redisCleanup(url: string, marker: string): Promise<void> {
  const redis = quiet(new Redis(url))
  try {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*${marker}*`, 'COUNT', 1000)
      cursor = next
      if (keys.length > 0) await redis.unlink(...keys)
    } while (cursor !== '0')
  } finally {
    redis.disconnect()
  }
}
