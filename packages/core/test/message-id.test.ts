import { describe, expect, it } from 'vitest'
import { newMessageId } from '../src/message-id.js'

const uuidV4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('message ids', () => {
  it('are version 4 UUIDs, all different, across several refills of the random bytes', () => {
    const ids = Array.from({ length: 2_000 }, () => newMessageId())
    for (const id of ids) expect(id).toMatch(uuidV4)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('use every hex digit in every free position (no position stuck at one value)', () => {
    const seen = Array.from({ length: 36 }, () => new Set<string>())
    for (let index = 0; index < 2_000; index++) {
      const id = newMessageId()
      for (let at = 0; at < 36; at++) seen[at]?.add(id[at] as string)
    }
    const fixed = new Map([
      [8, '-'],
      [13, '-'],
      [14, '4'],
      [18, '-'],
      [23, '-'],
    ])
    for (let at = 0; at < 36; at++) {
      if (fixed.has(at)) expect([...(seen[at] ?? [])]).toEqual([fixed.get(at)])
      else if (at === 19) expect(seen[at]?.size).toBe(4)
      else expect(seen[at]?.size).toBe(16)
    }
  })

  it('is a string of its own, not a view that the next id overwrites', () => {
    const first = newMessageId()
    const copy = `${first}`
    newMessageId()
    expect(first).toBe(copy)
  })
})
