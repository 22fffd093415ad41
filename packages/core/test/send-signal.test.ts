import { describe, expect, it } from 'vitest'
import { adapter as memory } from '../../adapter-memory/src/index.js'
import { AbortedError, connect } from '../src/index.js'
import type { AdapterFactory, Destination, OutgoingMessage } from '../src/spi/index.js'

/**
 * memory:// as a broker that took the connection but answers nothing (a frozen or partitioned node):
 * a publish is held until `release()`, then stored. No `publishNow`, so every send goes through `publish`.
 */
function stalled(): AdapterFactory & { held: number; publishes: number; release(): void } {
  const waiting: Array<() => void> = []
  const factory = {
    ...memory,
    held: 0,
    publishes: 0,
    release() {
      for (const done of waiting.splice(0)) done()
    },
    async connect(url: URL, context: Parameters<AdapterFactory['connect']>[1]) {
      const transport = await memory.connect(url, context)
      const publish = transport.publish.bind(transport)
      transport.publishNow = undefined
      transport.publish = (destination: Destination, messages: readonly OutgoingMessage[]) => {
        factory.publishes++
        factory.held++
        return new Promise<void>((resolve, reject) => {
          waiting.push(() => {
            factory.held--
            publish(destination, messages).then(resolve, reject)
          })
        })
      }
      return transport
    },
  }
  return factory
}

describe("a send's signal", () => {
  it('rejects the send with AbortedError when it aborts while the broker has not confirmed, and says the message may still be stored', async () => {
    const adapter = stalled()
    const mq = await connect('memory://send-signal-stalled', { adapter })
    const queue = mq.queue<string>('q')
    const began = Date.now()
    const error = await queue.send('one', { signal: AbortSignal.timeout(100) }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(AbortedError)
    expect((error as AbortedError).code).toBe('ERR_ABORTED')
    expect((error as Error).message).toMatch(/queue 'q'.*may still store/)
    expect(Date.now() - began).toBeLessThan(2_000)
    await expect(queue.sendBatch(['two', 'three'], { signal: AbortSignal.timeout(50) })).rejects.toBeInstanceOf(AbortedError)
    await expect(mq.topic<string>('t').publish('four', { signal: AbortSignal.timeout(50) })).rejects.toBeInstanceOf(AbortedError)
    // The broker answers late: what it was given is stored (the abort recalled nothing, lost nothing).
    adapter.release()
    const seen: string[] = []
    const subscription = queue.consume((message) => {
      seen.push(message.body)
    })
    await expect.poll(() => seen.sort()).toEqual(['one', 'three', 'two'])
    await subscription.close()
    await mq.close()
  })

  it('sends nothing when it has aborted already', async () => {
    const adapter = stalled()
    const mq = await connect('memory://send-signal-aborted', { adapter })
    const aborted = AbortSignal.abort()
    await expect(mq.queue('q').send('x', { signal: aborted })).rejects.toThrow(/nothing was sent/)
    await expect(mq.queue('q').sendBatch(['x'], { signal: aborted })).rejects.toBeInstanceOf(AbortedError)
    await expect(mq.topic('t').publish('x', { signal: aborted })).rejects.toBeInstanceOf(AbortedError)
    expect(adapter.publishes).toBe(0)
    await mq.close()
  })

  it('changes nothing for a send the broker confirms before the signal aborts', async () => {
    const mq = await connect('memory://send-signal-in-time')
    const controller = new AbortController()
    const { id } = await mq.queue('q').send('x', { signal: controller.signal })
    controller.abort()
    expect(id).toMatch(/./)
    expect(await mq.queue('q').stats()).toMatchObject({ ready: 1 })
    await mq.close()
  })
})
