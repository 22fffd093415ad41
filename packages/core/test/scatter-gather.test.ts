import { describe, expect, it } from 'vitest'
import { adapter as memory } from '../../adapter-memory/src/index.js'
import { AbortedError, ClosedError, ConfigError, connect, ValidationError } from '../src/index.js'

const numberSchema = {
  '~standard': {
    version: 1 as const,
    vendor: 'test',
    validate: (value: unknown) => (typeof value === 'number' ? { value } : { issues: [{ message: 'not a number' }] }),
  },
}

describe('scatterGather', () => {
  it("refuses expect 'all' on a topic whose responders are not named, and more replies than queues", async () => {
    const mq = await connect('memory://sg-config', { adapter: memory })
    await expect(mq.scatterGather({ topic: 'prices' }).gather(1)).rejects.toBeInstanceOf(ConfigError)
    await expect(mq.scatterGather({ queues: ['a', 'b'] }).gather(1, { expect: 3 })).rejects.toBeInstanceOf(ConfigError)
    expect(() => mq.scatterGather({ queues: ['a', 'a'] })).toThrow(ConfigError)
    expect(() => mq.scatterGather({ queues: [] })).toThrow(ConfigError)
    await mq.close()
  })

  it("with expect 'any' on a topic, takes whoever answers until the deadline", async () => {
    const mq = await connect('memory://sg-any', { adapter: memory })
    await mq.topicResponder<number, number>('quotes', 'x').serve((n) => n).ready
    const result = await mq.scatterGather<number, number>({ topic: 'quotes' }).gather(7, { expect: 'any', timeoutMs: 200 })
    expect(result).toEqual({ replies: [{ responder: 'x', response: 7 }], errors: [], missing: [], timedOut: true, aggregate: undefined })
    await mq.close()
  })

  it('records a reply that fails the response schema as that responder error', async () => {
    const mq = await connect('memory://sg-schema', { adapter: memory })
    await mq.responder('good').serve(() => 1).ready
    await mq.responder('bad').serve(() => 'one').ready
    const result = await mq.scatterGather<number, number>({ queues: ['good', 'bad'] }, { responseSchema: numberSchema }).gather(0, { timeoutMs: 5_000 })
    expect(result.replies).toEqual([{ responder: 'good', response: 1 }])
    expect(result.errors.map((failure) => failure.responder)).toEqual(['bad'])
    expect(result.errors[0]?.error).toBeInstanceOf(ValidationError)
    await mq.close()
  })

  it('rejects a running gather with ClosedError when the connection closes', async () => {
    const mq = await connect('memory://sg-close', { adapter: memory })
    const running = mq.scatterGather({ queues: ['nobody'] }).gather(1, { timeoutMs: 10_000 })
    setTimeout(() => void mq.close(), 50)
    await expect(running).rejects.toBeInstanceOf(ClosedError)
  })

  it('rejects with AbortedError when the signal fires', async () => {
    const mq = await connect('memory://sg-abort', { adapter: memory })
    const controller = new AbortController()
    const running = mq.scatterGather({ queues: ['nobody'] }).gather(1, { timeoutMs: 10_000, signal: controller.signal })
    setTimeout(() => controller.abort(), 50)
    await expect(running).rejects.toBeInstanceOf(AbortedError)
    await mq.close()
  })
})
