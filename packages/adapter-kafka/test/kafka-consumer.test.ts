import type { ConnectionStateTracker, Delivery, Logger } from '@anymq/core/spi'
import { describe, expect, it } from 'vitest'
import { KafkaConsumer } from '../src/kafka-consumer.js'
import type { DriverBatch, DriverConsumer, DriverConsumerOptions, DriverRecord, KafkaDriver, TopicPartitionOffset } from '../src/kafka-driver.js'
import { receivedRecord } from '../src/kafka-wire.js'

const topic = 'orders'
const silent = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} } as unknown as Logger

/** A consumer on a driver whose only member is driven by hand: `member()` gives the options it was made with. */
/** `commits`: the group commits (a durable one), each commit the member is asked for logged there. */
function consumerOnFakeDriver(prefetch: number, deliver: (delivery: Delivery) => void, commits?: TopicPartitionOffset[][]) {
  let options: DriverConsumerOptions | undefined
  const member: DriverConsumer = {
    start: async () => {},
    commit: async (offsets) => {
      commits?.push([...offsets])
      options?.onCommitted(offsets)
    },
    pauseAll: () => {},
    stop: async () => {},
  }
  const driver = {
    consumer: (given: DriverConsumerOptions) => {
      options = given
      return member
    },
  } as unknown as KafkaDriver
  const consumer = new KafkaConsumer(
    {
      driver,
      logger: silent,
      connectionState: { working: () => {}, failed: () => {} } as unknown as ConnectionStateTracker,
      republish: async () => {},
    },
    { groupId: 'g', mainTopic: topic, retryTopic: undefined, fromBeginning: true, filter: undefined, commits: commits !== undefined },
    { prefetch, leaseMs: undefined, onError: () => {} },
    deliver,
  )
  return { consumer, member: () => options as DriverConsumerOptions }
}

/** A batch of `count` records of partition 0 whose reading (the id header) is logged in `events`. */
function loggedBatch(count: number, events: string[]): DriverBatch & { resolved: number } {
  const records: DriverRecord[] = []
  for (let offset = 0; offset < count; offset++) {
    const record = receivedRecord(topic, 0, offset, undefined, Buffer.from('{}'), Date.now(), undefined)
    let id: string | undefined = `id-${offset}`
    Object.defineProperty(record, 'id', {
      get: () => {
        events.push(`read ${offset}`)
        return id
      },
      set: (value: string | undefined) => {
        id = value
      },
    })
    records.push(record)
  }
  const batch = {
    topic,
    partition: 0,
    records,
    resolved: -1,
    resolve: (offset: number) => {
      batch.resolved = offset
    },
    heartbeat: async () => {},
    isRunning: () => true,
    pause: () => () => {},
  }
  return batch
}

describe('kafka consumer', () => {
  it('hands a record to a free handler before it reads the next one of the batch', async () => {
    const events: string[] = []
    const { consumer, member } = consumerOnFakeDriver(1, (delivery) => {
      events.push(`deliver ${delivery.message.id}`)
      delivery.ackNow?.()
    })
    await consumer.start()
    member().onAssigned(new Map([[topic, [0]]]))
    const batch = loggedBatch(3, events)
    await member().onBatch(batch)
    expect(events.filter((event) => event.startsWith('deliver'))).toEqual(['deliver id-0', 'deliver id-1', 'deliver id-2'])
    // Each delivery comes before the next record is read: nothing of the batch waited in a queue.
    expect(events.indexOf('deliver id-0')).toBeLessThan(events.indexOf('read 1'))
    expect(events.indexOf('deliver id-1')).toBeLessThan(events.indexOf('read 2'))
    expect(batch.resolved).toBe(2)
    await consumer.close()
  })

  it('queues what arrives while every handler is busy and hands it out, in order, as they finish', async () => {
    const events: string[] = []
    const busy: Delivery[] = []
    const { consumer, member } = consumerOnFakeDriver(2, (delivery) => {
      events.push(`deliver ${delivery.message.id}`)
      busy.push(delivery)
    })
    await consumer.start()
    member().onAssigned(new Map([[topic, [0]]]))
    await member().onBatch(loggedBatch(5, events))
    expect(events.filter((event) => event.startsWith('deliver'))).toEqual(['deliver id-0', 'deliver id-1'])
    while (busy.length > 0) busy.shift()?.ackNow?.()
    expect(events.filter((event) => event.startsWith('deliver'))).toEqual(['deliver id-0', 'deliver id-1', 'deliver id-2', 'deliver id-3', 'deliver id-4'])
    await consumer.close()
  })

  it('takes a batch in the turn it is handed over while the read-ahead has room, and the rest of one that fills it once there is room', async () => {
    const busy: Delivery[] = []
    const { consumer, member } = consumerOnFakeDriver(1, (delivery) => {
      busy.push(delivery)
    })
    await consumer.start()
    member().onAssigned(new Map([[topic, [0]]]))
    // The platformatic driver hands over one record per call and reads `resolved` right after the call.
    const small = loggedBatch(3, [])
    const taking = member().onBatch(small)
    expect(small.resolved).toBe(2)
    await taking
    // The read-ahead holds 2,000 records (one handler busy, 2 queued already): the batch waits at offset 2,001.
    const large = loggedBatch(2_003, [])
    for (const record of large.records) record.offset += 3
    const waiting = member().onBatch(large)
    expect(large.resolved).toBe(2_000)
    // Handlers finish: half the read-ahead frees, the batch goes on.
    for (let index = 0; index < 1_100; index++) busy.shift()?.ackNow?.()
    await waiting
    expect(large.resolved).toBe(2_005)
    await consumer.close()
  })

  it('before a rejoin, lets running handlers finish and commits what they handled, handing out nothing more until the next assignment', async () => {
    const busy: Delivery[] = []
    const commits: TopicPartitionOffset[][] = []
    const { consumer, member } = consumerOnFakeDriver(2, (delivery) => busy.push(delivery), commits)
    await consumer.start()
    member().onAssigned(new Map([[topic, [0]]]))
    await member().onBatch(loggedBatch(4, []))
    expect(busy.map((delivery) => delivery.message.id)).toEqual(['id-0', 'id-1'])
    busy.shift()?.ackNow?.()
    // Offset 0 handled, 1 still running (2 was handed out as 0 finished): the member is told it will rejoin.
    let revoked = false
    const revoking = (member().onRevoking?.() ?? Promise.resolve()).then(() => {
      revoked = true
    })
    busy.shift()?.ackNow?.()
    await new Promise((resolve) => setImmediate(resolve))
    // Offset 2 runs: the revoke step waits for it, and hands out nothing in 1's place (3 stays queued).
    expect(revoked).toBe(false)
    expect(busy.map((delivery) => delivery.message.id)).toEqual(['id-2'])
    busy.shift()?.ackNow?.()
    await revoking
    // Committed before the rejoin: the next owner of the partition starts at 3, after the last record handled.
    expect(commits.at(-1)).toEqual([{ topic, partition: 0, offset: 3 }])
    expect(busy).toEqual([])
    member().onAssigned(new Map([[topic, [0]]]))
    expect(busy.map((delivery) => delivery.message.id)).toEqual(['id-3'])
    busy.shift()?.ackNow?.()
    await consumer.close()
  })
})
