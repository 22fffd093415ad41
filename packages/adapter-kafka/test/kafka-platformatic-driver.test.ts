import type { EventEmitter } from 'node:events'
import { Readable } from 'node:stream'
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

  it('counts a new topic as made only once its leader answers, not when the metadata names one', async () => {
    const driver = new PlatformaticDriver(resolveSettings(new URL('kafka://127.0.0.1:1'), undefined, {}), silentLogger)
    // The admin client scripted as a KRaft broker that has not applied the new partition yet: the
    // metadata already names its leader, the leader still refuses it for three asks.
    const admin = Reflect.get(driver, 'admin') as Record<string, unknown>
    const asked: string[] = []
    let refusals = 3
    admin.listTopics = async () => []
    admin.createTopics = async () => asked.push('create')
    admin.metadata = async () => {
      asked.push('metadata')
      return { topics: new Map([['t', { partitionsCount: 2, partitions: [{ leader: 1 }, { leader: 1 }] }]]) }
    }
    admin.listOffsets = async (options: { topics: Array<{ name: string; partitions: Array<{ partitionIndex: number }> }> }) => {
      asked.push(`offsets ${options.topics.map((topic) => `${topic.name}:${topic.partitions.map((p) => p.partitionIndex).join(',')}`).join(' ')}`)
      if (refusals-- > 0) throw Object.assign(new Error('This server is not the leader for that topic-partition.'), { apiId: 'NOT_LEADER_OR_FOLLOWER' })
      return []
    }
    await driver.createTopics([{ name: 't', partitions: 2, replicationFactor: 1 }])
    expect(asked).toEqual(['create', ...Array.from({ length: 4 }, () => ['metadata', 'offsets t:0,1']).flat()])
    await driver.close()
  })
})

/**
 * The library's consumer, scripted: `consume()` hands out streams the test pushes records into, and
 * the test emits its joins. What it models is what the library does around a rebalance: a stream
 * keeps a position for a partition that left, and a fetch answered after a join that brings the
 * partition back reads it from there, not from the committed offset.
 */
function scriptedMember() {
  const driver = new PlatformaticDriver(resolveSettings(new URL('kafka://127.0.0.1:1'), undefined, {}), silentLogger)
  // One entry per record: how the driver cuts records into batches is its own business.
  const handed: Array<{ partition: number; offset: number }> = []
  let hold: Promise<void> | undefined
  const consumer = driver.consumer({
    groupId: 'scripted',
    topics: ['t'],
    fromBeginning: true,
    // Takes a batch in the same turn, as the adapter's consumer does while it has room; after the held promise else.
    onBatch: (batch: DriverBatch) => {
      for (const { offset } of batch.records) handed.push({ partition: batch.partition, offset })
      const last = batch.records.at(-1)?.offset ?? -1
      if (hold === undefined) {
        batch.resolve(last)
        return Promise.resolve()
      }
      return hold.then(() => batch.resolve(last))
    },
    onAssigned: () => {},
    onCommitted: () => {},
    onCrash: () => {},
  })
  const client = Reflect.get(consumer, 'consumer') as EventEmitter & { consume: unknown; close: unknown }
  const streams: Readable[] = []
  client.consume = async () => {
    const stream = Object.assign(new Readable({ objectMode: true, read() {} }), {
      close: async () => {
        stream.destroy()
      },
    })
    streams.push(stream)
    return stream
  }
  client.close = async () => {}
  const join = (...partitions: number[]) => client.emit('consumer:group:join', { assignments: [{ topic: 't', partitions }] })
  const record = (partition: number, offset: number) => ({
    topic: 't',
    partition,
    offset: BigInt(offset),
    key: undefined,
    value: Buffer.from('{}'),
    timestamp: 0n,
    headerEntries: [],
  })
  const push = (stream: Readable | undefined, partition: number, ...offsets: number[]) => {
    for (const offset of offsets) stream?.push(record(partition, offset))
  }
  return {
    consumer,
    streams,
    handed,
    join,
    push,
    /** Starts the member and answers its first join with these partitions. */
    async start(...partitions: number[]) {
      const started = consumer.start()
      await settle()
      join(...partitions)
      await started
    },
    holdBatches(until: Promise<void> | undefined) {
      hold = until
    },
    async close() {
      await consumer.stop()
      await driver.close()
    },
  }
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 50))

describe('@platformatic/kafka driver handing records over (the library scripted)', () => {
  it('hands a record over inside the push that brought it while the consumer takes it at once: none waits in the stream', async () => {
    const member = scriptedMember()
    try {
      await member.start(0)
      await settle()
      const stream = member.streams[0] as Readable
      member.push(stream, 0, 0, 1, 2)
      // Not awaited: read in pull mode, a fetch's records waited in the stream's buffer for a later turn.
      expect(member.handed.map(({ offset }) => offset)).toEqual([0, 1, 2])
      expect(stream.readableLength).toBe(0)
    } finally {
      await member.close()
    }
  })

  it('pauses the stream at a record the consumer does not take at once, and hands over the rest in order after it', async () => {
    const member = scriptedMember()
    try {
      await member.start(0)
      await settle()
      let release: () => void = () => {}
      member.holdBatches(
        new Promise<void>((resolve) => {
          release = resolve
        }),
      )
      const stream = member.streams[0] as Readable
      member.push(stream, 0, 0, 1, 2, 3)
      await settle()
      expect(member.handed.map(({ offset }) => offset)).toEqual([0])
      expect(stream.readableLength).toBe(3)
      release()
      await settle()
      expect(member.handed.map(({ offset }) => offset)).toEqual([0, 1, 2, 3])
      // Flowing again once nothing waits.
      member.holdBatches(undefined)
      member.push(stream, 0, 4)
      expect(member.handed.map(({ offset }) => offset)).toEqual([0, 1, 2, 3, 4])
    } finally {
      await member.close()
    }
  })
})

describe('@platformatic/kafka driver around a rebalance (the library scripted)', () => {
  it('reads a partition it gains from a new stream, not from where the old stream had it', async () => {
    const member = scriptedMember()
    try {
      await member.start(0)
      member.push(member.streams[0], 0, 0, 1, 2)
      await settle()
      // Partition 1 comes (back) to this member; the group committed 300 on it.
      member.join(0, 1)
      await settle()
      // The old stream answers a fetch for it from its own position, 500 (the refresh to the
      // committed offset came too late): those records must not be the partition's first.
      member.push(member.streams[0], 1, 500, 501)
      // A stream made after the join reads it from the committed offset.
      member.push(member.streams.at(-1), 1, 300, 301)
      await settle()
      expect(member.handed.filter(({ partition }) => partition === 1).map(({ offset }) => offset)).toEqual([300, 301])
      expect(member.streams.length).toBe(2)
    } finally {
      await member.close()
    }
  })

  it('drops records read before their partition left and came back', async () => {
    const member = scriptedMember()
    try {
      await member.start(0, 1)
      let release: () => void = () => {}
      member.holdBatches(
        new Promise<void>((resolve) => {
          release = resolve
        }),
      )
      // One read takes a run of each partition; the first run's batch is held.
      member.push(member.streams[0], 0, 0, 1)
      member.push(member.streams[0], 1, 500, 501)
      await settle()
      // Meanwhile partition 1 leaves, another member reads and commits it, and it comes back.
      member.join(0)
      member.join(0, 1)
      member.push(member.streams.at(-1), 1, 700)
      release()
      await settle()
      expect(member.handed.filter(({ partition }) => partition === 1).map(({ offset }) => offset)).toEqual([700])
    } finally {
      await member.close()
    }
  })

  it('sends no commit while the group is being joined (the library would answer its REBALANCE_IN_PROGRESS by joining again)', async () => {
    const member = scriptedMember()
    try {
      await member.start(0)
      const client = Reflect.get(member.consumer, 'consumer') as { isActive: () => boolean; commit: (options: unknown) => Promise<void> }
      const sent: unknown[] = []
      client.commit = async (options) => {
        sent.push(options)
      }
      // The library's member is inactive from its JoinGroup until SyncGroup is done.
      let joining = true
      client.isActive = () => !joining
      await member.consumer.commit([{ topic: 't', partition: 0, offset: 5 }])
      expect(sent).toEqual([])
      joining = false
      await member.consumer.commit([{ topic: 't', partition: 0, offset: 5 }])
      expect(sent).toEqual([{ offsets: [{ topic: 't', partition: 0, offset: 5n, leaderEpoch: -1 }] }])
    } finally {
      await member.close()
    }
  })

  it("keeps a refused commit from joining the group (the library's commit calls joinGroup({})), not a stream's join", async () => {
    const member = scriptedMember()
    try {
      const client = Reflect.get(member.consumer, 'consumer') as {
        joinGroup: (options: object, callback?: (error: Error | null) => void) => Promise<string> | undefined
      }
      const passed: object[] = []
      Reflect.set(member.consumer, 'libraryJoin', async (options: object) => {
        passed.push(options)
        return 'member'
      })
      // As the library's commit calls it, with a callback.
      const refused = await new Promise<Error | null>((resolve) => client.joinGroup({}, resolve))
      expect(refused?.message).toMatch(/refused commit does not rejoin/)
      await expect(client.joinGroup({})).rejects.toThrow(/refused commit does not rejoin/)
      // As consume() calls it.
      await client.joinGroup({ topics: ['t'] })
      expect(passed).toEqual([{ topics: ['t'] }])
    } finally {
      await member.close()
    }
  })

  it('joins the group by itself, once a second until it succeeds, after the library gave up a rejoin', async () => {
    const member = scriptedMember()
    try {
      await member.start(0)
      const client = Reflect.get(member.consumer, 'consumer') as EventEmitter & { isActive: () => boolean }
      let active = false
      const joins: number[] = []
      const began = Date.now()
      client.isActive = () => active
      Reflect.set(member.consumer, 'libraryJoin', async () => {
        joins.push(Date.now() - began)
        // The coordinator's successor is not elected at the first try.
        if (joins.length === 1) throw new Error('COORDINATOR_NOT_AVAILABLE')
        active = true
        return 'member'
      })
      // What the library emits when its rejoin after a failed heartbeat failed; it tries no more.
      client.emit('error', new Error('joinGroup failed 11 times.'))
      await new Promise((resolve) => setTimeout(resolve, 3_300))
      expect(joins.length).toBe(2)
      expect(joins[0]).toBeGreaterThanOrEqual(900)
      expect(joins[1]).toBeGreaterThanOrEqual(1_900)
    } finally {
      await member.close()
    }
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
