import { brokerUrl, Collector, uniqueName } from '@anymq/conformance'
import { type Anymq, connect, silentLogger, transportOf } from '@anymq/core'
import { Kafka, logLevel } from 'kafkajs'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter, capabilities } from '../src/index.js'
import { resolveSettings } from '../src/kafka-config.js'
import { KafkaTransport } from '../src/kafka-transport.js'
import { KafkajsDriver } from '../src/kafkajs-driver.js'

const url = brokerUrl('ANYMQ_KAFKA_URL')

describe.skipIf(!url)('kafka adapter specifics (ANYMQ_KAFKA_URL unset: run scripts/brokers.sh up kafka)', () => {
  const open: Anymq[] = []
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((mq) => mq.close()))
  })
  const connected = async () => {
    const mq = await connect(url as string, { adapter })
    open.push(mq)
    return mq
  }

  it('never commits past a message still in flight: a consumer killed mid-batch loses nothing', async () => {
    const name = uniqueName('mid-batch')
    const doomed = await connect(url as string, { adapter })
    const done = new Collector<number>()
    const hanging = new Collector<number>()
    await doomed.queue<number>(name).consume(
      async (message) => {
        if (message.body % 2 === 1) {
          hanging.add(message)
          await new Promise(() => {})
        }
        done.add(message)
      },
      { concurrency: 40 },
    ).ready
    const bodies = Array.from({ length: 40 }, (_, index) => index)
    await doomed.queue<number>(name).sendBatch(bodies)
    await Promise.all([done.waitForCount(20, 30_000), hanging.waitForCount(20, 30_000)])
    // Give the acks time to be committed: what is committed must stop before every hanging message.
    await new Promise((resolve) => setTimeout(resolve, 500))
    await transportOf(doomed).terminate()
    const rescuer = await connected()
    const rescued = new Collector<number>()
    await rescuer.queue<number>(name).consume(rescued.handler, { concurrency: 8 }).ready
    const odd = bodies.filter((body) => body % 2 === 1)
    await rescued.waitFor(
      () => odd.every((body) => rescued.bodies.includes(body)),
      60_000,
      () => `rescued ${rescued.bodies.join(',')}`,
    )
    expect(odd.every((body) => rescued.bodies.includes(body))).toBe(true)
  })

  it('a responder keeps answering after a requester closed and its reply topic was deleted (kafkajs #1622)', async () => {
    const [server, client] = [await connected(), await connected()]
    const name = uniqueName('inbox')
    await server.responder<number, number>(name).serve((n) => n + 1).ready
    const requester = client.requester<number, number>(name)
    expect(await requester.request(1, { timeoutMs: 20_000 })).toBe(2)
    await requester.close()
    await client.close()
    expect(await server.requester<number, number>(name).request(41, { timeoutMs: 20_000 })).toBe(42)
  })

  it('removes a reply inbox topic whose creation failed half way (made, then the call failed)', async () => {
    const settings = resolveSettings(new URL(url as string), undefined, {})
    const driver = new KafkajsDriver(settings, silentLogger)
    await driver.connect()
    const made: string[] = []
    const createTopics = driver.createTopics.bind(driver)
    // As a CreateTopics request that timed out after the broker had made the topic.
    driver.createTopics = async (topics) => {
      await createTopics(topics)
      made.push(...topics.map((topic) => topic.name))
      throw new Error('simulated: the request timed out after the topic was made')
    }
    const transport = new KafkaTransport(driver, settings, silentLogger, capabilities)
    const options = { prefetch: 10, leaseMs: undefined, onError: () => {} }
    await expect(transport.openInbox(options, () => {})).rejects.toThrow('simulated')
    await transport.close()
    expect(made).toHaveLength(1)
    const admin = new Kafka({ brokers: settings.brokers, logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    try {
      expect(await admin.listTopics()).not.toContain(made[0])
    } finally {
      await admin.disconnect()
    }
  })
})
