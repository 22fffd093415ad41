import { describe, expect, it } from 'vitest'
import { adapter as memory } from '../../adapter-memory/src/index.js'
import { connect, silentLogger } from '../src/index.js'
import type { AdapterFactory, Delivery } from '../src/spi/index.js'

/**
 * The memory adapter whose `retry()` rejects as the SPI describes a failed retry: the delivery is
 * left unsettled, exactly as before the call. Records what core does next with each delivery.
 */
function failingRetries(calls: string[]): AdapterFactory {
  return {
    ...memory,
    connect: async (url, context) => {
      const transport = await memory.connect(url, context)
      const consume = transport.consume.bind(transport)
      transport.consume = (source, options, deliver) =>
        consume(source, options, (delivery) => {
          const wrapped: Delivery = {
            ...delivery,
            ack: async () => {
              calls.push(`ack ${delivery.message.attempt}`)
              await delivery.ack()
            },
            retry: async () => {
              calls.push(`retry ${delivery.message.attempt}`)
              throw new Error('the retry queue refused the copy')
            },
            release: async () => {
              calls.push(`release ${delivery.message.attempt}`)
              await delivery.release()
            },
          }
          deliver(wrapped)
        })
      return transport
    },
  }
}

describe('a failed retry', () => {
  it('is followed by exactly one release from core, and the message comes back without a recorded failure', async () => {
    const calls: string[] = []
    const errors: Error[] = []
    const mq = await connect('memory://failed-retry', { adapter: failingRetries(calls), logger: silentLogger })
    const queue = mq.queue<string>('work', { retry: { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 0 } } })
    let handled = 0
    const done = new Promise<void>((resolve) => {
      queue.consume(
        () => {
          handled++
          if (handled === 1) throw new Error('first try fails')
          resolve()
        },
        { onError: (error) => errors.push(error) },
      )
    })
    await queue.send('job')
    await done
    await mq.close()
    expect(calls).toEqual(['retry 1', 'release 1', 'ack 1'])
    expect(errors.map((error) => error.message)).toEqual(['the retry queue refused the copy'])
  })
})
