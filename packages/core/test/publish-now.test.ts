import { describe, expect, it } from 'vitest'
import { adapter as memory } from '../../adapter-memory/src/index.js'
import { connect, PublishError } from '../src/index.js'
import type { AdapterFactory, Destination, OutgoingMessage } from '../src/spi/index.js'

/** memory:// counting which of its two publish methods core calls; `publishNow` refuses while `refusing`. */
function counting(): AdapterFactory & { calls: { publish: number; publishNow: number }; refusing: { on: boolean } } {
  const calls = { publish: 0, publishNow: 0 }
  const refusing = { on: false }
  return {
    ...memory,
    calls,
    refusing,
    async connect(url, context) {
      const transport = await memory.connect(url, context)
      const publish = transport.publish.bind(transport)
      const publishNow = (transport.publishNow as (destination: Destination, message: OutgoingMessage) => void).bind(transport)
      transport.publish = (destination, messages, signal) => {
        calls.publish++
        return publish(destination, messages, signal)
      }
      transport.publishNow = (destination, message) => {
        calls.publishNow++
        if (refusing.on) throw new PublishError('refused (test)', { adapter: 'memory' })
        publishNow(destination, message)
      }
      return transport
    },
  }
}

describe('a transport that stores at once (publishNow)', () => {
  it('takes a plain send; a batch still goes through publish', async () => {
    const adapter = counting()
    const mq = await connect('memory://publish-now-plain', { adapter })
    const queue = mq.queue<string>('q')
    const { id } = await queue.send('one')
    await queue.sendBatch(['two', 'three'])
    expect(adapter.calls).toEqual({ publish: 1, publishNow: 1 })
    const seen: Array<{ id: string; body: string }> = []
    const subscription = queue.consume((message) => {
      seen.push({ id: message.id, body: message.body })
    })
    await expect.poll(() => seen.length).toBe(3)
    expect(seen[0]).toEqual({ id, body: 'one' })
    await subscription.close()
    await mq.close()
  })

  it('rejects the send with what it throws, and close() still returns (the send was left)', async () => {
    const adapter = counting()
    const mq = await connect('memory://publish-now-refused', { adapter })
    adapter.refusing.on = true
    await expect(mq.queue('q').send('x')).rejects.toBeInstanceOf(PublishError)
    expect(await mq.queue('q').stats()).toMatchObject({ ready: 0 })
    await mq.close()
  })
})
