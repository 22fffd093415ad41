import { afterEach, describe, expect, it, vi } from 'vitest'
import { ioredisDriver } from '../src/ioredis-driver.js'
import { nodeRedisDriver } from '../src/node-redis-driver.js'
import { AnswerWatchdog } from '../src/redis-answer-watchdog.js'
import { readSettings } from '../src/redis-config.js'

describe('AnswerWatchdog', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('drops a connection that owes answers and gets none for the bound, once', () => {
    vi.useFakeTimers()
    const stalls: string[] = []
    const watchdog = new AnswerWatchdog(
      3000,
      () => 7,
      (why) => stalls.push(why.message),
    )
    vi.advanceTimersByTime(3000)
    expect(stalls).toEqual([])
    vi.advanceTimersByTime(1000)
    expect(stalls).toHaveLength(1)
    expect(stalls[0]).toMatch(/answered nothing on it for 3000 ms/)
    // Counted afresh from the next look: not once a second from now on.
    vi.advanceTimersByTime(2000)
    expect(stalls).toHaveLength(1)
    watchdog.stop()
  })

  it('leaves be a connection whose answers keep coming, however slowly, and one that owes nothing', () => {
    vi.useFakeTimers()
    let answers = 0
    let owed = true
    const stalls: Error[] = []
    const watchdog = new AnswerWatchdog(
      3000,
      () => (owed ? answers : undefined),
      (why) => stalls.push(why),
    )
    for (let second = 0; second < 30; second++) {
      vi.advanceTimersByTime(1000)
      if (second % 2 === 0) answers++
    }
    owed = false
    vi.advanceTimersByTime(30_000)
    expect(stalls).toEqual([])
    watchdog.stop()
  })

  it('never looks when the bound is 0', () => {
    vi.useFakeTimers()
    const sample = vi.fn(() => 1)
    const watchdog = new AnswerWatchdog(0, sample, () => {})
    vi.advanceTimersByTime(60_000)
    expect(sample).not.toHaveBeenCalled()
    watchdog.stop()
  })

  it.each([
    ['node-redis', nodeRedisDriver],
    ['ioredis', ioredisDriver],
  ] as const)('%s: a connection that never opened leaves no watchdog running', async (_name, driver) => {
    const running = new Set<unknown>()
    const realSet = globalThis.setInterval
    const realClear = globalThis.clearInterval
    vi.spyOn(globalThis, 'setInterval').mockImplementation(((handler: () => void, ms?: number) => {
      const timer = realSet(handler, ms)
      running.add(timer)
      return timer
    }) as typeof setInterval)
    vi.spyOn(globalThis, 'clearInterval').mockImplementation(((timer?: NodeJS.Timeout) => {
      running.delete(timer)
      realClear(timer)
    }) as typeof clearInterval)
    try {
      // Port 1 on loopback refuses at once.
      const settings = readSettings(new URL('redis://127.0.0.1:1?connectTimeoutMs=1000'), {})
      await expect(driver.open(settings, 'commands', { debug() {}, info() {}, warn() {}, error() {} })).rejects.toThrow()
      expect(running.size).toBe(0)
    } finally {
      vi.restoreAllMocks()
    }
  })
})
