import { describe, expect, it } from 'vitest'
import { ConnectionError } from '../src/errors.js'
import { checkWithin } from '../src/spi/connect-check.js'

/** A check that waits until its signal fires, then rejects as a client's aborted request does. */
function silentBroker(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('request aborted')), { once: true }))
}

describe('checkWithin', () => {
  it('gives a silent endpoint up after the bound: a retryable ConnectionError naming the target, its sockets dropped once', async () => {
    let aborts = 0
    const started = Date.now()
    const error = await checkWithin({ adapter: 'test', target: 'Broker at http://h:1', ms: 100, onAbort: () => aborts++ }, silentBroker).catch(
      (caught: unknown) => caught,
    )
    expect(Date.now() - started).toBeLessThan(2_000)
    expect(error).toBeInstanceOf(ConnectionError)
    expect((error as ConnectionError).isRetryable).toBe(true)
    expect((error as Error).message).toBe('[anymq] [test] connecting to Broker at http://h:1 failed: no answer within 100 ms')
    expect(((error as Error).cause as Error).message).toBe('request aborted')
    expect(aborts).toBe(1)
  })

  it("leaves the check's own error when the caller's signal cut it, and drops the sockets then", async () => {
    const caller = new AbortController()
    let aborts = 0
    setTimeout(() => caller.abort(), 20)
    const error = await checkWithin({ adapter: 'test', target: 'Broker', ms: 5_000, signal: caller.signal, onAbort: () => aborts++ }, silentBroker).catch(
      (caught: unknown) => caught,
    )
    expect(error).not.toBeInstanceOf(ConnectionError)
    expect((error as Error).message).toBe('request aborted')
    expect(aborts).toBe(1)
  })

  it('returns what the check answered, and never drops the sockets after it settled', async () => {
    let aborts = 0
    await expect(checkWithin({ adapter: 'test', target: 'Broker', ms: 50, onAbort: () => aborts++ }, async () => 'answered')).resolves.toBe('answered')
    const refused = new Error('access denied')
    await expect(checkWithin({ adapter: 'test', target: 'Broker', ms: 50, onAbort: () => aborts++ }, () => Promise.reject(refused))).rejects.toBe(refused)
    await new Promise((resolve) => setTimeout(resolve, 120))
    expect(aborts).toBe(0)
  })
})
