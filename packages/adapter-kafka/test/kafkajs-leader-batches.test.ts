import type { Message } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { splitByLeader } from '../src/kafkajs-leader-batches.js'

// partitions 0 and 2 led by broker 1, partition 1 by broker 2
const leaders: Record<string, Array<{ partitionId: number; leader: number }>> = {
  orders: [
    { partitionId: 0, leader: 1 },
    { partitionId: 1, leader: 2 },
    { partitionId: 2, leader: 1 },
  ],
  events: [{ partitionId: 0, leader: 2 }],
}
const cluster = {
  targets: [] as string[],
  async addMultipleTargetTopics(topics: string[]) {
    this.targets.push(...topics)
  },
  findTopicPartitionMetadata: (topic: string) => leaders[topic] ?? [],
}

describe('one kafkajs sendBatch per partition leader', () => {
  it('groups every record under the leader of its partition and fixes the partition', async () => {
    const orders: Message[] = Array.from({ length: 60 }, (_, index) => ({ value: 'x', headers: { 'x-anymq-id': `o-${index}` } }))
    const events: Message[] = [{ key: 'k', value: 'y', headers: { 'x-anymq-id': 'e-1' } }]
    const groups = await splitByLeader(cluster, [
      { topic: 'orders', messages: orders },
      { topic: 'events', messages: events },
    ])
    expect(cluster.targets).toEqual(['orders', 'events'])
    expect(groups).toHaveLength(2)
    for (const group of groups) {
      const groupLeaders = new Set(
        group.flatMap(({ topic, messages }) => messages.map((message) => leaders[topic]?.find((entry) => entry.partitionId === message.partition)?.leader)),
      )
      expect(groupLeaders.size).toBe(1)
    }
    const sent = groups.flatMap((group) => group.flatMap(({ messages }) => messages))
    expect(sent).toHaveLength(61)
    expect(sent.every((message) => typeof message.partition === 'number')).toBe(true)
    // spread over all three partitions of orders, so both leaders are used
    expect(new Set(orders.map((message) => message.partition))).toEqual(new Set([0, 1, 2]))
  })
})
