import { describe, expect, it } from 'vitest'
import { PartitionTracker } from '../src/kafka-partition-tracker.js'

describe('PartitionTracker', () => {
  it('commits only up to the lowest offset still in flight, whatever order offsets settle in', () => {
    const tracker = new PartitionTracker('t', 0, 10)
    for (const offset of [10, 11, 12, 13]) tracker.track(offset)
    expect(tracker.commitPoint).toBe(10)
    tracker.settle(12)
    tracker.settle(11)
    expect(tracker.commitPoint).toBe(10)
    tracker.settle(10)
    expect(tracker.commitPoint).toBe(13)
    tracker.settle(13)
    expect(tracker.commitPoint).toBe(14)
  })

  it('steps over filtered offsets and ignores offsets it never tracked or already settled', () => {
    const tracker = new PartitionTracker('t', 0, 0)
    tracker.track(0)
    tracker.skip(1)
    tracker.track(2)
    tracker.settle(7)
    tracker.settle(2)
    tracker.settle(2)
    expect(tracker.commitPoint).toBe(0)
    tracker.settle(0)
    expect(tracker.commitPoint).toBe(3)
  })

  it('keeps the commit point right across compaction of a long run of settled offsets', () => {
    const tracker = new PartitionTracker('t', 3, 0)
    for (let offset = 0; offset < 5000; offset++) tracker.track(offset)
    for (let offset = 0; offset < 4000; offset++) if (offset !== 2500) tracker.settle(offset)
    expect(tracker.commitPoint).toBe(2500)
    tracker.settle(2500)
    expect(tracker.commitPoint).toBe(4000)
    for (let offset = 4999; offset >= 4000; offset--) tracker.settle(offset)
    expect(tracker.commitPoint).toBe(5000)
  })
})
