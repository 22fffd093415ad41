import { describe, expect, it } from 'vitest'
import { adapter as memory } from '../../adapter-memory/src/index.js'
import { ClosedError, ConfigError, ConnectionError, connect, type Logger } from '../src/index.js'
import type { AdapterFactory } from '../src/spi/index.js'

/** The memory adapter whose first `failures` consumer starts fail with `error()`. */
function failingStarts(failures: number, error: () => Error): { factory: AdapterFactory; attempts: () => number } {
  let attempts = 0
  const factory: AdapterFactory = {
    ...memory,
    connect: async (url, context) => {
      const transport = await memory.connect(url, context)
      const consume = transport.consume.bind(transport)
      transport.consume = async (source, options, deliver) => {
        attempts++
        if (attempts <= failures) throw error()
        return consume(source, options, deliver)
      }
      return transport
    },
  }
  return { factory, attempts: () => attempts }
}

function recordingLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = []
  const ignore = () => {}
  return { logger: { debug: ignore, info: ignore, warn: (line) => warnings.push(line), error: ignore }, warnings }
}

describe('a consumer whose start fails', () => {
  it('keeps trying on a retryable error until it starts, and says so in the log: a responder comes back', async () => {
    const { factory, attempts } = failingStarts(2, () => new ConnectionError('broker busy'))
    const { logger, warnings } = recordingLogger()
    const mq = await connect('memory://comes-back', { adapter: factory, logger })
    const serving = mq.responder<number, number>('double').serve((n) => n * 2)
    await serving.ready
    expect(attempts()).toBe(3)
    expect(warnings).toHaveLength(2)
    expect(warnings[0]).toMatch(/responder\('double'\)\.serve: could not start \(attempt 1\).*broker busy; trying again in \d+ ms/)
    await expect(mq.requester<number, number>('double').request(21, { timeoutMs: 5_000 })).resolves.toBe(42)
    await mq.close()
  })

  it('surfaces a non-retryable error at once, without trying again', async () => {
    const { factory, attempts } = failingStarts(1, () => new ConfigError([{ field: 'broker.queueType', message: 'not a queue type' }]))
    const { logger, warnings } = recordingLogger()
    const errors: Error[] = []
    const mq = await connect('memory://gives-up', { adapter: factory, logger })
    const sub = mq.queue('orders').consume(() => {}, { onError: (error) => errors.push(error) })
    await expect(sub.ready).rejects.toBeInstanceOf(ConfigError)
    expect(attempts()).toBe(1)
    expect(warnings).toHaveLength(0)
    expect(errors[0]).toBeInstanceOf(ConfigError)
    await mq.close()
  })

  it('given an already aborted signal, ends at once and reports nothing as an error (consume and for-await)', async () => {
    const errored: string[] = []
    const logger: Logger = { debug: () => {}, info: () => {}, warn: (message) => errored.push(message), error: (message) => errored.push(message) }
    const mq = await connect('memory://pre-aborted', { adapter: memory, logger })
    const queue = mq.queue<number>('pre-aborted')
    await queue.send(1)
    const sub = queue.consume(() => {}, { signal: AbortSignal.abort() })
    await expect(sub.ready).rejects.toThrow()
    const seen: number[] = []
    for await (const message of queue.messages({ signal: AbortSignal.abort() })) seen.push(message.body)
    expect(seen).toEqual([])
    // The caller stopped it: an error line (with its stack) was logged for each.
    expect(errored).toEqual([])
    await mq.close()
  })

  it('stops trying when it is closed, and its ready rejects with ClosedError', async () => {
    const { factory, attempts } = failingStarts(Number.POSITIVE_INFINITY, () => new ConnectionError('connection refused'))
    const { logger } = recordingLogger()
    const mq = await connect('memory://closed-while-retrying', { adapter: factory, logger })
    const sub = mq.topic('events').subscribe('billing', () => {})
    while (attempts() < 2) await new Promise((resolve) => setTimeout(resolve, 20))
    await mq.close()
    await expect(sub.ready).rejects.toBeInstanceOf(ClosedError)
    const after = attempts()
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    expect(attempts()).toBe(after)
  })
})

describe('closing', () => {
  it('mq.close() waits for a subscription close already under way: running handlers finish first', async () => {
    const mq = await connect('memory://close-under-way', { adapter: memory })
    const queue = mq.queue<number>('slow')
    let started!: () => void
    const running = new Promise<void>((resolve) => {
      started = resolve
    })
    let finished = false
    const sub = queue.consume(async () => {
      started()
      await new Promise((resolve) => setTimeout(resolve, 300))
      finished = true
    })
    await sub.ready
    await queue.send(1)
    await running
    const closingSubscription = sub.close()
    await mq.close()
    expect(finished).toBe(true)
    await closingSubscription
  })
})
