import type { EventEmitter } from 'node:events'
import { brokerUrl, uniqueName } from '@anymq/conformance'
import { silentLogger } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { resolveSettings } from '../src/kafka-config.js'
import type { DriverBatch } from '../src/kafka-driver.js'
import { PlatformaticDriver } from '../src/kafka-platformatic-driver.js'

describe('@platformatic/kafka driver', () => {
  it("reports the client's 'error' event (a failed rejoin) to the consumer instead of throwing it out of the process", async () => {
    const driver = new PlatformaticDriver(resolveSettings(new URL('kafka://127.0.0.1:1'), undefined, {}), silentLogger)
    const crashes: Array<{ error: Error; restarting: boolean }> = []
    const consumer = driver.consumer({
      groupId: 'no-broker-needed',
      topics: ['t'],
      fromBeginning: true,
      onBatch: async () => {},
      onAssigned: () => {},
      onCommitted: () => {},
      onCrash: (error, restarting) => crashes.push({ error, restarting }),
    })
    // The library's own client, as its heartbeat emits the error after a rejoin failed.
    const client = Reflect.get(consumer, 'consumer') as EventEmitter
    expect(() => client.emit('error', new Error('Connection pool is closed.'))).not.toThrow()
    expect(crashes.map(({ error, restarting }) => [error.message, restarting])).toEqual([['Connection pool is closed.', true]])
    await consumer.stop()
    await driver.close()
  })
})

const url = brokerUrl('ANYMQ_KAFKA_URL')

describe.skipIf(!url)('@platformatic/kafka driver on a broker', () => {
  it('hands over every record once and in order per partition, and reads no further ahead than the stream buffers, while the consumer is slow', async () => {
    const address = new URL(url as string)
    const driver = new PlatformaticDriver(resolveSettings(address, address.host.split(','), {}), silentLogger)
    const topic = uniqueName('kafka-driver-backpressure')
    const total = 8_000
    try {
      await driver.connect()
      await driver.createTopics([{ name: topic, partitions: 2, replicationFactor: -1 }])
      const value = new Uint8Array(1_000)
      for (let first = 0; first < total; first += 1_000) {
        await driver.send([
          {
            topic,
            records: Array.from({ length: 1_000 }, (_, index) => ({
              key: undefined,
              value,
              headers: { 'x-anymq-id': `${first + index}` },
              timestamp: Date.now(),
            })),
          },
        ])
      }
      const ranges = await driver.topicRanges(topic)
      expect(ranges.reduce((sum, range) => sum + range.high - range.low, 0)).toBe(total)
      const seen = new Map<number, number[]>()
      let batches = 0
      /** Most records waiting in the stream's buffer while a batch is held. */
      let buffered = 0
      let finish: () => void = () => {}
      const done = new Promise<void>((resolve) => {
        finish = resolve
      })
      const member = driver.consumer({
        groupId: `${topic}.group`,
        topics: [topic],
        fromBeginning: true,
        onBatch: async (batch: DriverBatch) => {
          // The first batches wait: the stream fetches on until its buffer is full, then stops.
          if (batches++ < 3) await new Promise((resolve) => setTimeout(resolve, 1_500))
          if (batches <= 3) buffered = Math.max(buffered, (Reflect.get(member, 'stream') as { readableLength: number }).readableLength)
          const offsets = seen.get(batch.partition) ?? []
          for (const record of batch.records) offsets.push(record.offset)
          seen.set(batch.partition, offsets)
          batch.resolve(batch.records.at(-1)?.offset ?? -1)
          if ([...seen.values()].reduce((sum, list) => sum + list.length, 0) >= total) finish()
        },
        onAssigned: () => {},
        onCommitted: () => {},
        onCrash: () => {},
      })
      await member.start()
      await Promise.race([done, new Promise((_, reject) => setTimeout(() => reject(new Error('not every record arrived in 60 s')), 60_000))])
      await member.stop()
      // The stream stopped fetching at its high-water mark (1,024 records, plus the response that crossed it): not the whole topic.
      expect(buffered).toBeGreaterThan(0)
      expect(buffered).toBeLessThan(total / 2)
      // Every record once, in offset order, on each partition that has any.
      for (const range of ranges)
        expect(seen.get(range.partition) ?? []).toEqual(Array.from({ length: range.high - range.low }, (_, index) => range.low + index))
    } finally {
      await driver.deleteTopics([topic]).catch(() => {})
      await driver.close()
    }
  }, 90_000)
})
