import { describe, expect, it } from 'vitest'
import { adapter } from '../../adapter-memory/src/index.js'
import { ConfigError, connect, type Message } from '../src/index.js'

describe('sendBatch options', () => {
  it('one options object: checked once for the batch, applied to every message, nothing sent when it is invalid', async () => {
    const mq = await connect('memory://send-batch-options', { adapter })
    const queue = mq.queue<string>('q')
    await expect(queue.sendBatch(['a', 'b'], { bogus: true } as never)).rejects.toThrow(ConfigError)
    await expect(queue.sendBatch(['a', 'b'], { key: 7 } as never)).rejects.toThrow(/sendBatch options \[0\]/)
    expect((await queue.stats()).ready).toBe(0)
    await queue.sendBatch(['c', 'd'], { key: 'k', headers: { tenant: 'acme' } })
    const seen: Message<string>[] = []
    const done = new Promise<void>((resolve) => {
      queue.consume((message) => {
        seen.push(message)
        if (seen.length === 2) resolve()
      })
    })
    await done
    expect(seen.map((message) => [message.body, message.key, message.headers.tenant])).toEqual([
      ['c', 'k', 'acme'],
      ['d', 'k', 'acme'],
    ])
    await mq.close()
  })

  it('options per message (a function): each checked with its index', async () => {
    const mq = await connect('memory://send-batch-options-each', { adapter })
    const queue = mq.queue<string>('q')
    await expect(queue.sendBatch(['a', 'b'], (_body, index) => (index === 1 ? ({ key: 7 } as never) : {}))).rejects.toThrow(/sendBatch options \[1\]/)
    expect((await queue.stats()).ready).toBe(0)
    await mq.close()
  })
})
