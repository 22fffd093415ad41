import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { brokerUrl, Collector, uniqueName } from '@anymq/conformance'
import { connect, silentLogger, transportOf } from '@anymq/core'
import { Kafka, logLevel } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { adapter, capabilities } from '../src/index.js'
import { platformaticRunsOn } from '../src/kafka-adapter.js'
import { resolveSettings } from '../src/kafka-config.js'
import { KafkaTransport } from '../src/kafka-transport.js'
import { KafkajsDriver } from '../src/kafkajs-driver.js'
import { closeAfterTest, connectTest } from './test-connections.js'

const url = brokerUrl('ANYMQ_KAFKA_URL')
const run = promisify(execFile)

/** The URL with query parameters added (the driver chosen by ANYMQ_KAFKA_URL stays). */
function withParameters(base: string, parameters: Record<string, string>): string {
  const parsed = new URL(base)
  for (const [name, value] of Object.entries(parameters)) parsed.searchParams.set(name, value)
  return parsed.toString()
}

/** Partition count of a topic as kcat (not anymq) sees it. */
async function partitionsOf(topic: string): Promise<number> {
  const { stdout } = await run('kcat', ['-b', new URL(url as string).host, '-L', '-t', topic, '-J'], { timeout: 20_000 })
  const metadata = JSON.parse(stdout) as { topics: Array<{ topic: string; partitions: unknown[] }> }
  return metadata.topics.find((entry) => entry.topic === topic)?.partitions.length ?? 0
}

/** Bytes a topic's partitions occupy on the broker (DescribeLogDirs through @platformatic/kafka's admin). */
async function bytesOnBroker(topic: string): Promise<number> {
  const { Admin } = await import('@platformatic/kafka')
  const admin = new Admin({ clientId: 'anymq-test', bootstrapBrokers: [new URL(url as string).host] })
  try {
    const brokers = await admin.describeLogDirs({ topics: [{ name: topic, partitions: [0] }] })
    let bytes = 0
    for (const broker of brokers)
      for (const dir of broker.results) for (const entry of dir.topics) for (const partition of entry.partitions) bytes += Number(partition.partitionSize)
    return bytes
  } finally {
    await admin.close()
  }
}

const driver = url ? resolveSettings(new URL(url), undefined, {}).driver : 'kafkajs'

describe.skipIf(!url)(`kafka adapter specifics${!url ? ' (ANYMQ_KAFKA_URL unset: run scripts/brokers.sh up kafka)' : ''}`, () => {
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
    const rescuer = await connectTest(url as string)
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
    const [server, client] = [await connectTest(url as string), await connectTest(url as string)]
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

  it("creates a queue's topics with the partitions its broker options ask for, and passes the replication factor on", async () => {
    const mq = await connectTest(url as string)
    const name = uniqueName('partitions')
    await mq.queue<number>(name, { broker: { partitions: 5 } }).send(1)
    expect(await partitionsOf(name)).toBe(5)
    const subscriber = mq.topic<number>(uniqueName('partitions-topic'))
    const received = new Collector<number>()
    await subscriber.subscribe('s', received.handler, { broker: { partitions: 2 } }).ready
    expect(await partitionsOf(subscriber.name)).toBe(2)
    expect(await partitionsOf(`${subscriber.name}.s.retry`)).toBe(2)
    // One broker here: a replication factor of 2 reaches it and is refused there, with a typed error.
    const refused = await mq
      .queue<number>(uniqueName('replicated'), { broker: { replicationFactor: 2 } })
      .send(1)
      .catch((caught: unknown) => caught)
    expect((refused as { code?: string }).code).toBe('ERR_CONNECTION')
    expect(String((refused as Error).message)).toMatch(/INVALID_REPLICATION_FACTOR/)
    // Checked up front, by core against the adapter's declared queue options.
    const invalid = (() => {
      try {
        mq.queue<number>(name, { broker: { partitions: -2, replicationFactor: 0 } })
      } catch (caught) {
        return caught
      }
    })()
    expect((invalid as { code?: string }).code).toBe('ERR_CONFIG')
    expect(String((invalid as Error).message)).toMatch(/partitions[\s\S]*replicationFactor/)
  })

  it('goes on consuming after a handler blocked the event loop past the session timeout and the group dropped the member', { timeout: 90_000 }, async () => {
    const name = uniqueName('blocked-loop')
    // Both drivers in one process: the one blocking handler keeps every member here from heartbeating.
    const members = await Promise.all(
      (['platformatic', 'kafkajs'] as const).map(async (driverName) => {
        const mq = await connectTest(withParameters(url as string, { driver: driverName, sessionTimeoutMs: '6000' }))
        const queue = mq.queue<number>(`${name}-${driverName}`)
        const handled = new Collector<number>()
        await queue.consume(
          async (message) => {
            // A synchronous handler (a CPU-bound step, a long GC pause) past the 6 s session timeout.
            if (driverName === 'platformatic' && message.body === 10 && message.attempt === 1) {
              const until = Date.now() + 9_000
              while (Date.now() < until) {}
            }
            handled.add(message)
          },
          { concurrency: 4 },
        ).ready
        return { driverName, queue, handled }
      }),
    )
    const first = Array.from({ length: 20 }, (_, index) => index)
    for (const { queue } of members) for (const body of first) await queue.send(body)
    for (const { handled } of members) await handled.waitForCount(20, 30_000)
    // Sent after the block: the member must have joined the group again to read them.
    const second = Array.from({ length: 20 }, (_, index) => 20 + index)
    for (const { queue } of members) await queue.sendBatch(second)
    const expected = [...first, ...second]
    await Promise.all(
      members.map(({ driverName, handled }) =>
        handled.waitFor(
          () => expected.every((body) => handled.bodies.includes(body)),
          45_000,
          () => `${driverName}: handled ${[...new Set(handled.bodies)].length} of 40`,
        ),
      ),
    )
    for (const { handled } of members) expect(expected.filter((body) => !handled.bodies.includes(body))).toEqual([])
  })

  it('spreads unkeyed messages over every partition, so that the consumers of a group share them', async () => {
    const mq = await connectTest(url as string)
    const name = uniqueName('unkeyed')
    await mq.queue<number>(name, { broker: { partitions: 3 } }).sendBatch(Array.from({ length: 60 }, (_, index) => index))
    const admin = new Kafka({ brokers: [new URL(url as string).host], logLevel: logLevel.NOTHING }).admin()
    await admin.connect()
    try {
      const offsets = await admin.fetchTopicOffsets(name)
      const perPartition = offsets.map((entry) => Number(entry.high) - Number(entry.low))
      expect(perPartition.reduce((sum, count) => sum + count, 0)).toBe(60)
      // Every partition gets a share (a partitioner that sends them all to partition 0 fails here).
      for (const count of perPartition) expect(count).toBeGreaterThan(5)
    } finally {
      await admin.disconnect()
    }
  })

  // gzip on both drivers; snappy, lz4 and zstd only where the driver has them (kafkajs: a ConfigError, tested in kafka-config.test.ts).
  const codecs = driver === 'kafkajs' ? ['gzip'] : ['gzip', 'snappy', 'lz4', 'zstd']
  for (const compression of codecs) {
    it(`compresses record batches with ${compression}: same messages back, fewer bytes on the broker`, async () => {
      const plain = await connect(url as string, { adapter })
      const packed = await connect(withParameters(url as string, { compression }), { adapter })
      closeAfterTest(plain, packed)
      const body = 'order line '.repeat(5_000)
      const [plainName, packedName] = [uniqueName(`plain-${compression}`), uniqueName(`packed-${compression}`)]
      const bodies = Array.from({ length: 20 }, (_, index) => `${index}:${body}`)
      await plain.queue<string>(plainName, { broker: { partitions: 1 } }).sendBatch(bodies)
      await packed.queue<string>(packedName, { broker: { partitions: 1 } }).sendBatch(bodies)
      const received = new Collector<string>()
      await plain.queue<string>(packedName, { broker: { partitions: 1 } }).consume(received.handler).ready
      await received.waitForCount(20, 30_000)
      expect([...received.bodies].sort()).toEqual([...bodies].sort())
      // Where DescribeLogDirs can be asked (the @platformatic/kafka admin needs Node >= 22.22): a tenth of the size or less.
      if (platformaticRunsOn(process.versions.node)) {
        const [plainBytes, packedBytes] = [await bytesOnBroker(plainName), await bytesOnBroker(packedName)]
        expect(plainBytes).toBeGreaterThan(1_000_000)
        expect(packedBytes).toBeLessThan(plainBytes / 10)
      }
    })
  }
})
