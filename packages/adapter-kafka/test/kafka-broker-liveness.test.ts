import { ConnectionStateTracker } from '@anymq/core/spi'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { BrokerLiveness } from '../src/kafka-broker-liveness.js'

/** A metadata request that stays unanswered until told, as on a broker that is shutting down. */
function hungRequest() {
  let answer!: () => void
  const promise = new Promise<void>((resolve) => (answer = resolve))
  return { promise, answer }
}

describe('liveness of the kafka brokers (platformatic driver)', () => {
  const timing = { intervalMs: 5_000, timeoutMs: 5_000, droppedSuspectMs: 1_000 }
  let states: string[]
  let tracker: ConnectionStateTracker
  let liveness: BrokerLiveness | undefined

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval'] })
    states = []
    tracker = new ConnectionStateTracker((change) => states.push(change.state))
  })
  afterEach(() => {
    liveness?.stop()
    vi.useRealTimers()
  })

  it('reports a restart shorter than the check timeout, when a dropped connection goes unanswered for 1 s', async () => {
    const stuck = hungRequest()
    const ask = vi.fn().mockReturnValueOnce(stuck.promise).mockResolvedValue({})
    liveness = new BrokerLiveness(ask, tracker, timing)
    liveness.dropped()
    await vi.advanceTimersByTimeAsync(999)
    expect(states).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(states).toEqual(['reconnecting'])
    // The broker is back 3 s later and the producer dials it; the stuck request still waits.
    await vi.advanceTimersByTimeAsync(2_000)
    liveness.dialled()
    expect(states).toEqual(['reconnecting', 'connected'])
    // The stuck request times out after the recovery: asked again, not reported as a new loss.
    await vi.advanceTimersByTimeAsync(2_500)
    expect(ask).toHaveBeenCalledTimes(2)
    expect(states).toEqual(['reconnecting', 'connected'])
  })

  it('reports nothing for a dropped idle connection when a broker answers at once', async () => {
    const ask = vi.fn().mockResolvedValue({})
    liveness = new BrokerLiveness(ask, tracker, timing)
    liveness.dropped()
    await vi.advanceTimersByTimeAsync(3_000)
    expect(ask).toHaveBeenCalledTimes(1)
    expect(states).toEqual([])
  })

  it('counts a periodic check that no broker answers as a loss, and asks with backoff until one does', async () => {
    let down = true
    const ask = vi.fn(() => (down ? Promise.reject(new Error('connect ECONNREFUSED')) : Promise.resolve({})))
    liveness = new BrokerLiveness(ask, tracker, timing)
    liveness.start()
    await vi.advanceTimersByTimeAsync(5_000)
    expect(states).toEqual(['reconnecting'])
    await vi.advanceTimersByTimeAsync(250 + 500)
    expect(ask).toHaveBeenCalledTimes(3)
    down = false
    await vi.advanceTimersByTimeAsync(1_000)
    expect(states.at(-1)).toBe('connected')
    expect(states.filter((state) => state === 'connected')).toHaveLength(1)
  })

  it('reports the failed dials of one loss at most once a second, and the next loss at once', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] })
    const reports: string[] = []
    liveness = new BrokerLiveness(() => Promise.resolve({}), new ConnectionStateTracker((change) => reports.push(change.state)), timing)
    // The clients' retries: a failed dial every 200 ms for 3 s.
    for (let elapsed = 0; elapsed < 3_000; elapsed += 200) {
      liveness.dialFailed('127.0.0.1:9092')
      await vi.advanceTimersByTimeAsync(200)
    }
    expect(reports).toEqual(['reconnecting', 'reconnecting', 'reconnecting'])
    liveness.dialled()
    liveness.dialFailed('127.0.0.1:9092')
    expect(reports).toEqual(['reconnecting', 'reconnecting', 'reconnecting', 'connected', 'reconnecting'])
  })

  it('reports nothing once stopped, whatever the client still tells', async () => {
    const stuck = hungRequest()
    liveness = new BrokerLiveness(() => stuck.promise, tracker, timing)
    liveness.start()
    liveness.dropped()
    liveness.stop()
    liveness.dialFailed('127.0.0.1:9092')
    await vi.advanceTimersByTimeAsync(20_000)
    expect(states).toEqual([])
  })
})
