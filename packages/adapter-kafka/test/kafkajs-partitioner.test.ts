import kafkajs from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { stablePartitioner } from '../src/kafkajs-partitioner.js'

const partitionMetadata = [0, 1, 2, 3, 4].map((partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0 }))
const unkeyed = (id: string) => ({ value: 'x', headers: { 'x-anymq-id': id } })

describe('stable partitioner of the kafkajs producer', () => {
  it('puts an unkeyed record on the same partition on every call, as a retry of sendBatch partitions again', () => {
    const first = stablePartitioner()
    const retry = stablePartitioner()
    const ids = Array.from({ length: 200 }, (_, index) => `message-${index}`)
    const once = ids.map((id) => first({ topic: 't', partitionMetadata, message: unkeyed(id) }))
    // kafkajs' round-robin would give other partitions here: its counter moved on
    const again = ids.map((id) => retry({ topic: 't', partitionMetadata, message: unkeyed(id) }))
    expect(again).toEqual(once)
    // and still spreads the records over every partition
    expect(new Set(once)).toEqual(new Set([0, 1, 2, 3, 4]))
  })

  it('places keyed records as the Java client does', () => {
    const java = kafkajs.Partitioners.DefaultPartitioner()
    const ours = stablePartitioner()
    for (const key of ['a', 'customer-42', 'ü', '']) {
      const message = { key, value: 'x', headers: { 'x-anymq-id': 'same' } }
      expect(ours({ topic: 't', partitionMetadata, message })).toBe(java({ topic: 't', partitionMetadata, message }))
    }
  })
})
