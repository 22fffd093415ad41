import { describe, expect, it } from 'vitest'
import { readEntry } from '../src/redis-wire.js'

describe('redis wire format', () => {
  it('names a foreign entry without an id, or with an empty one, by its entry id', () => {
    expect(readEntry('orders', ['1700000000000-3', ['body', 'x']], 1).message.id).toBe('1700000000000-3')
    expect(readEntry('orders', ['1700000000000-3', ['id', '', 'body', 'x']], 1).message.id).toBe('1700000000000-3')
    expect(readEntry('orders', ['1700000000000-3', ['id', 'm-1', 'body', 'x']], 1).message.id).toBe('m-1')
  })
})
