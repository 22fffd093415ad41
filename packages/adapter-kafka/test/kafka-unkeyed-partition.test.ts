import { describe, expect, it } from 'vitest'
import { unkeyedPartitionHash, unkeyedPartitionHashOfBytes } from '../src/kafka-unkeyed-partition.js'

describe('unkeyed partition hash', () => {
  it('is FNV-1a over the UTF-8 bytes of the id, the same from the text and from its bytes', () => {
    // Reference values of 32-bit FNV-1a.
    expect(unkeyedPartitionHash('')).toBe(0x811c9dc5)
    expect(unkeyedPartitionHash('a')).toBe(0xe40c292c)
    expect(unkeyedPartitionHash('foobar')).toBe(0xbf9cf968)
    for (const id of ['0c7a2f1e-3b7c-4d1a-9e2f-123456789abc', 'order-42', 'grüße ✓', '注文-1', '😀']) {
      expect(unkeyedPartitionHashOfBytes(Buffer.from(id))).toBe(unkeyedPartitionHash(id))
    }
  })

  it('spreads ids that share a long prefix over every partition', () => {
    const counts = [0, 0, 0]
    for (let index = 0; index < 3000; index++) {
      const id = `0c7a2f1e-3b7c-4d1a-9e2f-123456789${index.toString(16).padStart(3, '0')}`
      const partition = unkeyedPartitionHashOfBytes(Buffer.from(id)) % 3
      counts[partition] = (counts[partition] ?? 0) + 1
    }
    for (const count of counts) expect(count).toBeGreaterThan(800)
  })
})
