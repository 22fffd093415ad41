import { afterEach, describe, expect, it, vi } from 'vitest'
import { AnswerWatchdog } from '../src/redis-answer-watchdog.js'

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
})
