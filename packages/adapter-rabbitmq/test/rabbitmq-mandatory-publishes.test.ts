import { describe, expect, it } from 'vitest'
import { MandatoryPublishes } from '../src/rabbitmq-mandatory-publishes.js'

describe('MandatoryPublishes', () => {
  it('finds the oldest waiting entry that matches, and no removed one', () => {
    const waiting = new MandatoryPublishes<{ key: string; seq: number }>()
    const first = waiting.add({ key: 'a', seq: 1 })
    waiting.add({ key: 'b', seq: 2 })
    waiting.add({ key: 'a', seq: 3 })
    expect(waiting.find((entry) => entry.key === 'a')?.seq).toBe(1)
    waiting.remove(first)
    expect(waiting.find((entry) => entry.key === 'a')?.seq).toBe(3)
    expect(waiting.find((entry) => entry.key === 'c')).toBeUndefined()
  })

  it('keeps tickets valid when confirms come out of order and the front is trimmed', () => {
    const waiting = new MandatoryPublishes<number>()
    const tickets = [1, 2, 3, 4, 5].map((value) => waiting.add(value))
    waiting.remove(tickets[1] as number)
    waiting.remove(tickets[0] as number)
    // 1 and 2 trimmed: later tickets still name their own entries.
    const sixth = waiting.add(6)
    waiting.remove(tickets[3] as number)
    const left: number[] = []
    waiting.find((value) => {
      left.push(value)
      return false
    })
    expect(left).toEqual([3, 5, 6])
    waiting.remove(sixth)
    waiting.remove(tickets[2] as number)
    waiting.remove(tickets[4] as number)
    // Removing twice, or a ticket already trimmed, changes nothing.
    waiting.remove(tickets[0] as number)
    waiting.remove(sixth)
    expect(waiting.find(() => true)).toBeUndefined()
    expect(waiting.add(7)).toBe(6)
    expect(waiting.find(() => true)).toBe(7)
  })
})
