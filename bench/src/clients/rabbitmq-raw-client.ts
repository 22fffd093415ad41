import type { BenchBody } from '@anymq/cli'
import amqp from 'amqplib'
import type { BenchClient, Running } from '../bench-client.js'

const encode = (body: BenchBody): Buffer => Buffer.from(JSON.stringify(body))
const decode = (content: Buffer): BenchBody => JSON.parse(content.toString()) as BenchBody

/**
 * amqplib as an experienced user would write it, with anymq's guarantees: durable classic queues,
 * persistent `mandatory` messages on a confirm channel (a send resolves on the broker's confirm; a batch
 * publishes all then waits for the confirms), one channel per consumer with `prefetch` =
 * concurrency and a manual ack after the handler. Request/reply: durable request queue, exclusive
 * reply queue per requester, correlation ids.
 */
export async function rabbitmqRawClient(url: string): Promise<BenchClient> {
  // amqplib leaves Nagle's algorithm on unless asked; every latency-minded user turns it off.
  const connection = await amqp.connect(url, { noDelay: true })
  const publisher = await connection.createConfirmChannel()
  const declared = new Set<string>()
  const declare = async (queue: string) => {
    if (declared.has(queue)) return
    await publisher.assertQueue(queue, { durable: true })
    declared.add(queue)
  }
  // `mandatory`, as anymq publishes to a queue (a send to a queue deleted behind its back is returned, not dropped).
  // Free on a routed message since RabbitMQ 3.8, and a flag bit in the frame: the two sides write the same publish.
  const publish = (queue: string, body: BenchBody, extra: amqp.Options.Publish = {}): Promise<void> =>
    new Promise((resolve, reject) => {
      publisher.sendToQueue(queue, encode(body), { persistent: true, mandatory: true, contentType: 'application/json', ...extra }, (error: unknown) =>
        error ? reject(error) : resolve(),
      )
    })
  let replies: { queue: string; waiting: Map<string, (body: BenchBody) => void> } | undefined
  let nextCorrelation = 0
  const replyQueue = async () => {
    if (!replies) {
      const channel = await connection.createChannel()
      await channel.prefetch(1000)
      const { queue } = await channel.assertQueue('', { exclusive: true, durable: false })
      const waiting = new Map<string, (body: BenchBody) => void>()
      await channel.consume(queue, (message) => {
        if (!message) return
        channel.ack(message)
        const resolve = waiting.get(message.properties.correlationId as string)
        waiting.delete(message.properties.correlationId as string)
        resolve?.(decode(message.content))
      })
      replies = { queue, waiting }
    }
    return replies
  }
  return {
    side: 'raw',
    description: 'amqplib 2.3.1 (noDelay): confirm channel, persistent mandatory messages, durable classic queue, prefetch = concurrency, manual ack',
    async prepare(queue, warmUp) {
      await declare(queue)
      await publish(queue, warmUp)
    },
    send: (queue, body) => publish(queue, body),
    async sendBatch(queue, bodies) {
      for (const body of bodies) publisher.sendToQueue(queue, encode(body), { persistent: true, mandatory: true, contentType: 'application/json' })
      await publisher.waitForConfirms()
    },
    async consume(queue, concurrency, handle): Promise<Running> {
      const channel = await connection.createChannel()
      await channel.prefetch(concurrency)
      const { consumerTag } = await channel.consume(queue, (message) => {
        if (!message) return
        void (async () => {
          handle(decode(message.content))
          channel.ack(message)
        })()
      })
      return {
        close: async () => {
          await channel.cancel(consumerTag)
          await channel.close()
        },
      }
    },
    async serve(queue): Promise<Running> {
      await declare(queue)
      const channel = await connection.createConfirmChannel()
      await channel.prefetch(1)
      const { consumerTag } = await channel.consume(queue, (message) => {
        if (!message) return
        void (async () => {
          const request = decode(message.content)
          await new Promise<void>((resolve, reject) =>
            channel.sendToQueue(
              message.properties.replyTo as string,
              encode(request),
              { correlationId: message.properties.correlationId as string, contentType: 'application/json' },
              (error: unknown) => (error ? reject(error) : resolve()),
            ),
          )
          channel.ack(message)
        })()
      })
      return {
        close: async () => {
          await channel.cancel(consumerTag)
          await channel.close()
        },
      }
    },
    async request(queue, body) {
      const inbox = await replyQueue()
      const correlationId = String(nextCorrelation++)
      const reply = new Promise<BenchBody>((resolve) => inbox.waiting.set(correlationId, resolve))
      await publish(queue, body, { correlationId, replyTo: inbox.queue })
      return reply
    },
    async close() {
      await connection.close()
    },
  }
}

/**
 * Deletes the queues and exchanges whose names contain `marker`, through the management API (port
 * 15672, or `ANYMQ_RABBITMQ_MGMT_PORT` as `scripts/brokers.sh` sets it); without it (plugin off), deletes the
 * queue named `marker` and its `.dlq` over AMQP.
 */
export async function rabbitmqCleanup(url: string, marker: string): Promise<void> {
  try {
    await cleanupThroughManagement(url, marker)
  } catch {
    const connection = await amqp.connect(url)
    try {
      for (const queue of [marker, `${marker}.dlq`]) {
        const channel = await connection.createChannel()
        channel.on('error', () => {})
        await channel.deleteQueue(queue).catch(() => {})
        await channel.close().catch(() => {})
      }
    } finally {
      await connection.close().catch(() => {})
    }
  }
}

async function cleanupThroughManagement(url: string, marker: string): Promise<void> {
  const parsed = new URL(url)
  const vhost = encodeURIComponent(decodeURIComponent(parsed.pathname.slice(1)) || '/')
  // The broker's own management port: on a machine with several brokers, 15672 may belong to another one.
  const base = `http://${parsed.hostname}:${process.env.ANYMQ_RABBITMQ_MGMT_PORT ?? '15672'}/api`
  const authorization = `Basic ${Buffer.from(`${decodeURIComponent(parsed.username || 'guest')}:${decodeURIComponent(parsed.password || 'guest')}`).toString('base64')}`
  for (const kind of ['queues', 'exchanges']) {
    const response = await fetch(`${base}/${kind}/${vhost}?columns=name`, { headers: { authorization }, signal: AbortSignal.timeout(5000) })
    if (!response.ok) throw new Error(`management API ${kind}: HTTP ${response.status}`)
    const names = ((await response.json()) as { name: string }[]).map((item) => item.name).filter((name) => name.includes(marker))
    await Promise.all(names.map((name) => fetch(`${base}/${kind}/${vhost}/${encodeURIComponent(name)}`, { method: 'DELETE', headers: { authorization } })))
  }
}
