import { describe, expect, it } from 'vitest'
import { type ConnectionEvent, ConnectionHealth } from '../src/connection-health.js'
import { registerSecret } from '../src/redact.js'

describe('ConnectionHealth', () => {
  it('starts connected and ready, counts each reconnect attempt, and keeps the last cause after recovery', () => {
    const health = new ConnectionHealth()
    const events: ConnectionEvent[] = []
    health.listen((event) => events.push(event))
    expect(health.health()).toMatchObject({ ready: true, state: 'connected', reconnects: 0 })
    health.report({ state: 'reconnecting', cause: Object.assign(new Error('ECONNREFUSED 127.0.0.1:5672'), { code: 'ECONNREFUSED' }) })
    health.report({ state: 'reconnecting' })
    expect(health.health()).toMatchObject({ ready: false, state: 'reconnecting', reconnects: 2 })
    health.report({ state: 'connected' })
    health.report({ state: 'connected' })
    expect(health.health()).toMatchObject({
      ready: true,
      state: 'connected',
      reconnects: 2,
      lastError: { code: 'ECONNREFUSED', message: 'ECONNREFUSED 127.0.0.1:5672' },
    })
    expect(events.map((event) => [event.previous, event.state, event.reconnects])).toEqual([
      ['connected', 'reconnecting', 1],
      ['reconnecting', 'reconnecting', 2],
      ['reconnecting', 'connected', 2],
    ])
  })

  it('stays closed once closed, and a listener that throws does not stop the others', () => {
    const health = new ConnectionHealth()
    const seen: string[] = []
    health.listen(() => {
      throw new Error('bad listener')
    })
    const stop = health.listen((event) => seen.push(event.state))
    health.report({ state: 'closed' })
    health.report({ state: 'connected' })
    expect(health.health()).toMatchObject({ ready: false, state: 'closed' })
    expect(seen).toEqual(['closed'])
    stop()
  })

  it('never shows a registered secret in a cause', () => {
    registerSecret('hunter2-secret')
    const health = new ConnectionHealth()
    health.report({ state: 'reconnecting', cause: new Error('auth failed for amqp://user:hunter2-secret@host') })
    expect(JSON.stringify(health.health())).not.toContain('hunter2-secret')
  })
})
