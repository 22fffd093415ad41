import { afterEach, describe, expect, it, vi } from 'vitest'
import { maxWaitMs, PubSubWaitingMessages } from '../src/gcp-pubsub-waiting.js'

/** Waiting messages whose modifyAckDeadline calls are recorded, and fail while `outage.on` is set. */
function waitingMessages() {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] })
  const calls: Array<{ ackIds: string[]; seconds: number }> = []
  const errors: unknown[] = []
  const outage = { on: false }
  const waiting = new PubSubWaitingMessages<string>({
    extensionSeconds: 30,
    modifyAckDeadline: async (ackIds, seconds) => {
      if (outage.on) throw new Error('unavailable')
      calls.push({ ackIds, seconds })
    },
    onError: (error) => errors.push(error),
  })
  return { waiting, calls, errors, outage }
}

describe('pub/sub waiting messages', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('gives a message back once it has waited the longest a message is kept', async () => {
    const { waiting, calls } = waitingMessages()
    waiting.push('m1:1', 'm1', Date.now() + 30_000)
    await vi.advanceTimersByTimeAsync(maxWaitMs - 1)
    expect(calls.every((call) => call.seconds === 30)).toBe(true)
    expect(calls.length).toBeGreaterThan(200)
    await vi.advanceTimersByTimeAsync(15_000)
    expect(calls.at(-1)).toEqual({ ackIds: ['m1:1'], seconds: 0 })
    expect(waiting.size).toBe(0)
    expect(waiting.shift()).toBeUndefined()
  })

  it('reports an outage once per 20 failed renewals, retries each second, and renews once it ends', async () => {
    const { waiting, calls, errors, outage } = waitingMessages()
    waiting.push('m1:1', 'm1', Date.now() + 30_000)
    outage.on = true
    await vi.advanceTimersByTimeAsync(24_500)
    expect(errors).toHaveLength(1)
    expect(calls).toEqual([])
    outage.on = false
    await vi.advanceTimersByTimeAsync(1_000)
    expect(calls).toEqual([{ ackIds: ['m1:1'], seconds: 30 }])
    expect(waiting.shift()?.ackId).toBe('m1:1')
  })
})
