import { describe, expect, it, vi } from 'vitest'
import { newMessageId } from '../src/message-id.js'

const uuidV4Layout = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('message ids', () => {
  it('have the version 4 UUID layout and are all different, across several blocks of 4096', () => {
    const ids = Array.from({ length: 10_000 }, () => newMessageId())
    for (const id of ids) expect(id).toMatch(uuidV4Layout)
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('draw every random position afresh for each block of 4096 ids, and count in the last three digits', () => {
    // Align on a block boundary: the first id whose last three digits are 000.
    while (!newMessageId().endsWith('fff'));
    const blocks = Array.from({ length: 200 }, () => Array.from({ length: 4096 }, () => newMessageId()))
    const wrong: string[] = []
    for (const block of blocks) {
      const prefix = (block[0] as string).slice(0, 33)
      block.forEach((id, index) => {
        if (id !== prefix + index.toString(16).padStart(3, '0')) wrong.push(id)
      })
    }
    expect(wrong).toEqual([])
    const seen = Array.from({ length: 33 }, () => new Set<string>())
    for (const block of blocks) for (let at = 0; at < 33; at++) seen[at]?.add((block[0] as string)[at] as string)
    const fixed = new Map([
      [8, '-'],
      [13, '-'],
      [14, '4'],
      [18, '-'],
      [23, '-'],
    ])
    // 200 draws of a full hex digit miss one of its 16 values with odds ~1e-3 over 27 positions (it happened
    // in CI); more than 8 values proves 4 random bits (3 give at most 8), and misses with odds below 1e-50.
    for (let at = 0; at < 33; at++) {
      if (fixed.has(at)) expect([...(seen[at] ?? [])]).toEqual([fixed.get(at)])
      else if (at === 19) expect(seen[at]?.size).toBe(4)
      else expect(seen[at]?.size, `distinct digits at ${at}`).toBeGreaterThan(8)
    }
  })

  it('start from a fresh random block in every process (a module loaded anew draws its own)', async () => {
    const here = newMessageId()
    vi.resetModules()
    const fresh = (await import('../src/message-id.js')).newMessageId()
    expect(fresh).toMatch(uuidV4Layout)
    expect(fresh.slice(0, 33)).not.toBe(here.slice(0, 33))
  })
})
