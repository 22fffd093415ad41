import type { Destination, OutgoingMessage, QueueSpec } from '@anymq/core/spi'
import { describe, expect, it } from 'vitest'
import { capabilities } from '../src/kafka-adapter.js'
import { resolveSettings } from '../src/kafka-config.js'
import type { KafkaDriver, TopicSpec } from '../src/kafka-driver.js'
import { KafkaTransport } from '../src/kafka-transport.js'
import { naming } from '../src/kafka-wire.js'

/** A driver that records what it is asked; topic creation completes when the test says so. */
function fakeDriver() {
  const created: TopicSpec[][] = []
  const sent: string[][] = []
  const deleted: string[][] = []
  const creating: Array<() => void> = []
  let topics = new Set<string>()
  const driver = {
    createTopics(specs: readonly TopicSpec[]) {
      created.push([...specs])
      return new Promise<void>((resolve) =>
        creating.push(() => {
          for (const spec of specs) topics.add(spec.name)
          resolve()
        }),
      )
    },
    send(batches: ReadonlyArray<{ topic: string; records: unknown[] }>) {
      sent.push(batches.map((batch) => `${batch.topic}:${batch.records.length}`))
      return Promise.resolve()
    },
    listGroups: () => Promise.resolve([]),
    listTopics: () => Promise.resolve([...topics]),
    deleteTopics(names: readonly string[]) {
      deleted.push([...names])
      topics = new Set([...topics].filter((name) => !names.includes(name)))
      return Promise.resolve()
    },
    deleteGroups: () => Promise.resolve(),
  } as unknown as KafkaDriver
  return { driver, created, sent, deleted, creating }
}

const silent = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent }

function message(id: string): OutgoingMessage {
  return {
    id,
    body: new TextEncoder().encode('{}'),
    contentType: 'application/json',
    headers: {},
    key: undefined,
    correlationId: undefined,
    replyTo: undefined,
    timestamp: 1,
    subject: undefined,
    delayMs: 0,
    priority: undefined,
    dedupeId: undefined,
    attempt: 1,
  }
}

async function turn(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve))
}

describe('kafka transport publish', () => {
  it("waits for a queue's topics once, then hands each send to the driver before publish() returns; a removed queue's topics are made again", async () => {
    const { driver, created, sent, deleted, creating } = fakeDriver()
    const settings = resolveSettings(new URL('kafka://127.0.0.1:1'), undefined, {})
    const transport = new KafkaTransport(driver, settings, silent as never, capabilities)
    const spec: QueueSpec = { name: 'orders', ordered: false, deadLetter: false, maxAttempts: 5, broker: { partitions: 5 } }
    const queue: Destination = { kind: 'queue', queue: spec }

    const first = transport.publish(queue, [message('m1')])
    await turn()
    // Both topics of the queue, with its broker options, and nothing produced before they exist.
    expect(created).toEqual([
      [
        { name: 'orders', partitions: 5, replicationFactor: settings.replicationFactor },
        { name: naming.queueRetryTopic('orders'), partitions: 5, replicationFactor: settings.replicationFactor },
      ],
    ])
    expect(sent).toEqual([])
    creating.shift()?.()
    await first
    expect(sent).toEqual([['orders:1']])

    // Known topics: the produce request goes out within the publish call itself.
    const second = transport.publish(queue, [message('m2')])
    expect(sent).toEqual([['orders:1'], ['orders:1']])
    await second
    expect(created).toHaveLength(1)

    // Removed through the admin API: the next send makes the topics again before producing.
    await transport.admin.remove(queue)
    expect(deleted).toHaveLength(1)
    const third = transport.publish(queue, [message('m3')])
    await turn()
    expect(created).toHaveLength(2)
    expect(sent).toHaveLength(2)
    creating.shift()?.()
    await third
    expect(sent).toHaveLength(3)
  })
})
