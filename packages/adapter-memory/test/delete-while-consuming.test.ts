import { type Anymq, connect } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import '../src/index.js'

const open: Anymq[] = []
afterEach(async () => {
  await Promise.all(open.splice(0).map((mq) => mq.close()))
})

async function broker(): Promise<Anymq> {
  const mq = await connect(`memory://delete-${crypto.randomUUID()}`)
  open.push(mq)
  return mq
}

/** Resolves with what the handler received once `body` arrives; rejects if it never does (the consumer was left deaf). */
function receivedBy(received: string[], body: string, timeoutMs = 2_000): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const started = Date.now()
    const poll = setInterval(() => {
      if (received.includes(body)) {
        clearInterval(poll)
        resolve([...received])
      } else if (Date.now() - started > timeoutMs) {
        clearInterval(poll)
        reject(new Error(`'${body}' never reached the consumer attached before delete(); it received ${JSON.stringify(received)}`))
      }
    }, 5)
  })
}

// On a broker, a consumer of a deleted queue or subscription attaches again (RabbitMQ re-declares it after
// the channel closes): it goes on receiving what is sent from then on, and nothing deleted comes back.
describe('delete() while a consumer is attached', () => {
  it('drops the queue’s waiting and delayed messages, and its consumer receives what is sent afterwards', async () => {
    const mq = await broker()
    const jobs = mq.queue<string>('jobs', { deadLetter: false })
    const received: string[] = []
    await jobs.consume(async (message) => {
      received.push(message.body)
    }).ready
    await jobs.send('delayed before delete', { delayMs: 50 })
    await jobs.delete()
    expect((await jobs.stats()).ready).toBe(0)

    // Sent later with the same delay, so it is due after the deleted one would have been.
    await jobs.send('sent after delete', { delayMs: 50 })
    expect(await receivedBy(received, 'sent after delete')).toEqual(['sent after delete'])
    expect(await jobs.stats()).toMatchObject({ ready: 0, inFlight: 0, consumers: 1 })
  })

  it('a subscriber of a deleted subscription receives what is published afterwards', async () => {
    const mq = await broker()
    const events = mq.topic<string>('events')
    const received: string[] = []
    const subscription = events.subscribe(
      'audit',
      async (message) => {
        received.push(message.body)
      },
      { deadLetter: false, concurrency: 1 },
    )
    await subscription.ready
    await events.deleteSubscription('audit')
    await events.publish('published after delete')
    expect(await receivedBy(received, 'published after delete')).toEqual(['published after delete'])
  })

  it('a queue deleted with no consumer is gone, as before', async () => {
    const mq = await broker()
    const idle = mq.queue<string>('idle', { deadLetter: false })
    await idle.send('x', { delayMs: 20 })
    await idle.delete()
    expect(await mq.list()).toEqual([])
  })
})
