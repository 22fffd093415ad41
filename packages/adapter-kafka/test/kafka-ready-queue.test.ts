import { describe, expect, it } from 'vitest'
import type { Item } from '../src/kafka-delivery.js'
import { ReadyQueue } from '../src/kafka-ready-queue.js'

const item = (offset: number, bytes = 10): Item => ({ message: { body: new Uint8Array(bytes) }, raw: undefined, tracker: undefined, offset }) as unknown as Item

describe('ready queue of the kafka consumer', () => {
  it('hands items out in order, first what was handed back, and counts their body bytes', () => {
    const queue = new ReadyQueue()
    for (let offset = 0; offset < 5_000; offset++) queue.push(item(offset, offset % 7))
    const out: number[] = []
    for (let index = 0; index < 3_000; index++) out.push((queue.shift() as Item).offset)
    queue.unshift(item(-1, 100))
    expect(queue.length).toBe(2_001)
    let expectedBytes = 100
    for (let offset = 3_000; offset < 5_000; offset++) expectedBytes += offset % 7
    expect(queue.bytes).toBe(expectedBytes)
    for (let next = queue.shift(); next; next = queue.shift()) out.push(next.offset)
    expect(out).toEqual([...Array.from({ length: 3_000 }, (_, index) => index), -1, ...Array.from({ length: 2_000 }, (_, index) => 3_000 + index)])
    expect(queue.length).toBe(0)
    expect(queue.bytes).toBe(0)
    expect(queue.shift()).toBeUndefined()
  })

  it('keeps only the items asked for, in order, and their bytes', () => {
    const queue = new ReadyQueue()
    for (let offset = 0; offset < 10; offset++) queue.push(item(offset, 4))
    queue.shift()
    queue.retain((kept) => kept.offset % 2 === 0)
    expect(queue.length).toBe(4)
    expect(queue.bytes).toBe(16)
    expect([queue.shift(), queue.shift(), queue.shift(), queue.shift()].map((kept) => kept?.offset)).toEqual([2, 4, 6, 8])
    queue.push(item(11, 4))
    queue.clear()
    expect([queue.length, queue.bytes]).toEqual([0, 0])
  })
})
