import { type Anymq, ConfigError, transportOf, UnsupportedFeatureError } from '@anymq/core'
import amqplib from 'amqplib'
import { describe, expect, it } from 'vitest'
import { quorumQueuesHavePriorities } from '../src/rabbitmq-priority.js'
import { connectTest, uniqueName, url } from './test-connections.js'

function serverVersionOf(mq: Anymq): string | undefined {
  return (transportOf(mq) as unknown as { connection: { serverVersion?: string } }).connection.serverVersion
}

async function failureOf(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work()
  } catch (error) {
    return error
  }
  return undefined
}

describe.skipIf(!url)('rabbitmq priority queues', () => {
  it('declares a classic queue made with maxPriority with x-max-priority, as another AMQP client sees it', async () => {
    const name = uniqueName('priority-args')
    const mq = await connectTest()
    await mq.queue(name, { maxPriority: 5 }).send('x', { priority: 4 })
    const plain = await amqplib.connect(url!)
    try {
      const channel = await plain.createChannel()
      // An equivalent declaration succeeds only with the same arguments: x-max-priority is 5.
      await expect(channel.assertQueue(name, { durable: true, arguments: { 'x-max-priority': 5 } })).resolves.toMatchObject({ messageCount: 1 })
      const message = await channel.get(name, { noAck: true })
      expect(message ? message.properties.priority : undefined).toBe(4)
      await channel.deleteQueue(name)
    } finally {
      await plain.close()
    }
  })

  it('names maxPriority, the value asked for and the current one, when the queue exists with another', async () => {
    const name = uniqueName('priority-mismatch')
    const mq = await connectTest()
    await mq.queue(name, { maxPriority: 5 }).send('x')
    const other = await failureOf(() => mq.queue(name, { maxPriority: 9 }).send('y', { priority: 9 }))
    expect(other).toBeInstanceOf(ConfigError)
    expect((other as ConfigError).problems).toEqual([
      {
        field: `queue '${name}'`,
        message: expect.stringMatching(
          /^exists on the broker with a different maxPriority \(argument 'x-max-priority'\): asked for '9' but current is '5'; .*delete the queue/,
        ),
      },
    ])
    const none = await failureOf(() => mq.queue(name).send('z'))
    expect(none).toBeInstanceOf(ConfigError)
    expect((none as Error).message).toContain("different maxPriority (argument 'x-max-priority')")
    // The failed declarations did not break the connection for the handle that matches.
    await mq.queue(name, { maxPriority: 5 }).send('again')
    await mq.queue(name, { maxPriority: 5 }).delete()
  })

  it('gives a quorum queue priorities only where the broker keeps them (RabbitMQ 4+), and says so otherwise', async () => {
    const classic = await connectTest()
    const quorum = await connectTest({ queueType: 'quorum' })
    const kept = quorumQueuesHavePriorities(serverVersionOf(quorum))
    expect(quorum.capabilities.priority).toBe(kept)
    expect(classic.capabilities.priority).toBe(true)
    const name = uniqueName('priority-quorum')
    const perQueue = () => classic.queue(name, { maxPriority: 9, broker: { queueType: 'quorum' } }).send('x', { priority: 9 })
    const perConnection = async () => quorum.queue(uniqueName('priority-quorum'), { maxPriority: 9 }).send('x', { priority: 9 })
    if (kept) {
      await perQueue()
      await perConnection()
      return
    }
    const refused = await failureOf(perQueue)
    expect(refused).toBeInstanceOf(UnsupportedFeatureError)
    expect((refused as Error).message).toContain(`maxPriority on quorum queue '${name}'`)
    expect((refused as Error).message).toContain("queueType 'classic'")
    // Refused before anything reached the broker: the queue was never made.
    const plain = await amqplib.connect(url!)
    try {
      const channel = await plain.createChannel()
      channel.on('error', () => {})
      await expect(channel.checkQueue(name)).rejects.toMatchObject({ code: 404 })
    } finally {
      await plain.close().catch(() => {})
    }
    expect(await failureOf(perConnection)).toBeInstanceOf(UnsupportedFeatureError)
    const consumer = await failureOf(async () => {
      await classic.queue(uniqueName('priority-quorum'), { maxPriority: 9, broker: { queueType: 'quorum' } }).consume(() => {}).ready
    })
    expect(consumer).toBeInstanceOf(UnsupportedFeatureError)
  })
})
