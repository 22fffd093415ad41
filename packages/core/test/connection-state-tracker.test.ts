import { describe, expect, it } from 'vitest'
import type { ConnectionStateChange } from '../src/spi/connection-state.js'
import { ConnectionStateTracker } from '../src/spi/connection-state-tracker.js'

describe('ConnectionStateTracker', () => {
  it('reports each recoverable failure as reconnecting with its cause, and the first success after it as connected', () => {
    const changes: ConnectionStateChange[] = []
    const tracker = new ConnectionStateTracker((change) => changes.push(change))
    tracker.working()
    tracker.failed(new Error('access denied'), false)
    tracker.failed(new Error('ECONNREFUSED'), true)
    tracker.failed('socket hang up', true)
    tracker.working()
    tracker.working()
    expect(changes.map((change) => [change.state, change.cause?.message])).toEqual([
      ['reconnecting', 'ECONNREFUSED'],
      ['reconnecting', 'socket hang up'],
      ['connected', undefined],
    ])
  })

  it('does nothing without a reporter', () => {
    const tracker = new ConnectionStateTracker(undefined)
    expect(() => {
      tracker.failed(new Error('down'), true)
      tracker.working()
    }).not.toThrow()
  })
})
