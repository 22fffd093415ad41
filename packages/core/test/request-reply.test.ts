import { getEventListeners } from 'node:events'
import { describe, expect, it, vi } from 'vitest'
import { adapter as memory } from '../../adapter-memory/src/index.js'
import { AbortedError, ClosedError, connect, RequestTimeoutError } from '../src/index.js'
import type { AdapterFactory, Transport } from '../src/spi/index.js'

/** The memory adapter, counting the reply inboxes it opens and closes. */
function countingInboxes(): { factory: AdapterFactory; opened: () => number; open: () => number } {
  let opened = 0
  let closed = 0
  const factory: AdapterFactory = {
    ...memory,
    connect: async (url, context) => {
      const transport = await memory.connect(url, context)
      const counted: Transport = Object.create(transport)
      counted.openInbox = async (options, deliver) => {
        const inbox = await transport.openInbox(options, deliver)
        opened++
        return {
          address: inbox.address,
          close: async () => {
            closed++
            await inbox.close()
          },
        }
      }
      return counted
    },
  }
  return { factory, opened: () => opened, open: () => opened - closed }
}

/** Timers that are still pending in this process. */
function pendingTimers(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length
}

describe('request/reply', () => {
  it('opens one reply inbox per connection for every requester made from it, and closes it with the connection', async () => {
    const { factory, opened, open } = countingInboxes()
    const mq = await connect('memory://one-inbox', { adapter: factory })
    mq.responder<number, number>('double').serve((n) => n * 2, { concurrency: 8 })
    const replies = await Promise.all(Array.from({ length: 200 }, (_, index) => mq.requester<number, number>('double').request(index, { timeoutMs: 10_000 })))
    expect(replies).toEqual(Array.from({ length: 200 }, (_, index) => index * 2))
    expect(opened()).toBe(1)
    await mq.close()
    expect(open()).toBe(0)
  })

  it('opens no inbox for a requester that never sends, and opens it again after a failed opening', async () => {
    let failures = 1
    const base = countingInboxes()
    const factory: AdapterFactory = {
      ...base.factory,
      connect: async (url, context) => {
        const transport = await base.factory.connect(url, context)
        const openInbox = transport.openInbox.bind(transport)
        transport.openInbox = async (options, deliver) => {
          if (failures-- > 0) throw new Error('broker busy')
          return openInbox(options, deliver)
        }
        return transport
      },
    }
    const mq = await connect('memory://inbox-retry', { adapter: factory })
    mq.requester('idle')
    expect(base.opened()).toBe(0)
    mq.responder<string, string>('echo').serve((text) => text)
    await expect(mq.requester<string, string>('echo').request('a', { timeoutMs: 5_000 })).rejects.toThrow('broker busy')
    await expect(mq.requester<string, string>('echo').request('b', { timeoutMs: 5_000 })).resolves.toBe('b')
    expect(base.opened()).toBe(1)
    await mq.close()
  })

  /** The memory adapter with a reply inbox that opens only when `letOpen()` is called; `outage()` reports the connection lost. */
  function slowInboxes() {
    const base = countingInboxes()
    let letOpen: () => void = () => {}
    const opened = new Promise<void>((resolve) => (letOpen = resolve))
    let report: ((change: { state: 'reconnecting'; cause: Error }) => void) | undefined
    const factory: AdapterFactory = {
      ...base.factory,
      connect: async (url, context) => {
        const transport = await base.factory.connect(url, context)
        report = context.reportConnectionState
        const openInbox = transport.openInbox.bind(transport)
        // As an adapter retrying its declaration until the broker is back.
        transport.openInbox = async (options, deliver) => {
          await opened
          return openInbox(options, deliver)
        }
        return transport
      },
    }
    return { ...base, factory, letOpen: () => letOpen(), outage: () => report?.({ state: 'reconnecting', cause: new Error('broker gone') }) }
  }

  it('does not make close() wait in an outage for a reply inbox still opening, and closes that inbox once it opens', async () => {
    const inboxes = slowInboxes()
    const mq = await connect('memory://inbox-opening-outage', { adapter: inboxes.factory })
    await expect(mq.requester('pricing').request({}, { timeoutMs: 100 })).rejects.toBeInstanceOf(RequestTimeoutError)
    inboxes.outage()
    const started = Date.now()
    await mq.close()
    expect(Date.now() - started).toBeLessThan(10_000)
    inboxes.letOpen()
    await vi.waitFor(() => expect([inboxes.opened(), inboxes.open()]).toEqual([1, 0]))
  }, 15_000)

  it('outside an outage, close() waits for a reply inbox still opening and removes it before the transport closes', async () => {
    const inboxes = slowInboxes()
    const mq = await connect('memory://inbox-opening-slow', { adapter: inboxes.factory })
    await expect(mq.requester('pricing').request({}, { timeoutMs: 100 })).rejects.toBeInstanceOf(RequestTimeoutError)
    let closed = false
    const closing = mq.close().then(() => (closed = true))
    // Longer than close() would wait in an outage: a slow opening (a Kafka topic and group join) is not given up.
    await new Promise((resolve) => setTimeout(resolve, 2_500))
    expect(closed).toBe(false)
    inboxes.letOpen()
    await closing
    expect([inboxes.opened(), inboxes.open()]).toEqual([1, 0])
  }, 15_000)

  it('rejects waiting requests with ClosedError at once when the requester closes', async () => {
    const mq = await connect('memory://requester-close', { adapter: memory })
    const requester = mq.requester('nobody-answers')
    const started = Date.now()
    const waiting = requester.request({}, { timeoutMs: 60_000 })
    await new Promise((resolve) => setTimeout(resolve, 20))
    await requester.close()
    await expect(waiting).rejects.toBeInstanceOf(ClosedError)
    expect(Date.now() - started).toBeLessThan(30_000)
    await expect(requester.request({})).rejects.toBeInstanceOf(ClosedError)
    await mq.close()
  })

  it('leaves no request timer behind after mq.close(), and rejects what was waiting with ClosedError', async () => {
    const mq = await connect('memory://request-timers', { adapter: memory })
    const waiting = Array.from({ length: 20 }, () => mq.requester('nobody-home').request({}, { timeoutMs: 600_000 }))
    await new Promise((resolve) => setTimeout(resolve, 20))
    const during = pendingTimers()
    await mq.close()
    for (const request of waiting) await expect(request).rejects.toBeInstanceOf(ClosedError)
    // Relative to the count while waiting (a count taken before connect flaked: other timers of the
    // worker come and go). Twenty timers left behind would keep this at `during` and fail it.
    expect(pendingTimers()).toBeLessThanOrEqual(during - 20)
  })

  it('removes its abort listener from a long-lived signal on every path: reply, timeout, abort-free failure', async () => {
    const mq = await connect('memory://abort-listeners', { adapter: memory })
    const signal = new AbortController().signal
    mq.responder<string, string>('echo').serve((text) => {
      if (text === 'fail') throw new Error('no')
      return text
    })
    await Promise.all(Array.from({ length: 20 }, () => mq.requester<string, string>('echo').request('x', { timeoutMs: 5_000, signal })))
    await Promise.allSettled(Array.from({ length: 20 }, () => mq.requester<string, string>('echo').request('fail', { timeoutMs: 5_000, signal })))
    const timedOut = await mq
      .requester('silent')
      .request('x', { timeoutMs: 50, signal })
      .catch((error: unknown) => error)
    expect(timedOut).toBeInstanceOf(RequestTimeoutError)
    expect(getEventListeners(signal, 'abort')).toHaveLength(0)
    await mq.close()
  })

  it('rejects with AbortedError when the signal fires, and removes the timer', async () => {
    const mq = await connect('memory://abort-request', { adapter: memory })
    const controller = new AbortController()
    const before = pendingTimers()
    const waiting = mq.requester('silent').request({}, { timeoutMs: 600_000, signal: controller.signal })
    await new Promise((resolve) => setTimeout(resolve, 20))
    controller.abort()
    await expect(waiting).rejects.toBeInstanceOf(AbortedError)
    expect(pendingTimers()).toBeLessThanOrEqual(before)
    await mq.close()
  })
})

describe('AbortSignal', () => {
  it('is honoured by sendBatch: nothing is sent once it has fired', async () => {
    const mq = await connect('memory://abort-batch', { adapter: memory })
    const queue = mq.queue<number>('batch')
    const controller = new AbortController()
    controller.abort()
    await expect(queue.sendBatch([1, 2, 3], { signal: controller.signal })).rejects.toBeInstanceOf(AbortedError)
    await expect(queue.sendBatch([4, 5], () => ({ signal: controller.signal }))).rejects.toBeInstanceOf(AbortedError)
    const seen: number[] = []
    const sub = queue.consume((message) => {
      seen.push(message.body)
    })
    await sub.ready
    await queue.send(9)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(seen).toEqual([9])
    await mq.close()
  })

  it('is honoured by connect: an abort while connecting rejects at once and closes the late connection', async () => {
    let release!: () => void
    let closed = false
    const slow: AdapterFactory = {
      ...memory,
      connect: async (url, context) => {
        await new Promise<void>((resolve) => {
          release = resolve
        })
        const transport = await memory.connect(url, context)
        const close = transport.close.bind(transport)
        transport.close = async () => {
          closed = true
          await close()
        }
        return transport
      },
    }
    const controller = new AbortController()
    const connecting = connect('memory://slow', { adapter: slow, signal: controller.signal })
    await new Promise((resolve) => setTimeout(resolve, 20))
    controller.abort()
    await expect(connecting).rejects.toBeInstanceOf(AbortedError)
    release()
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(closed).toBe(true)
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0)
    const already = new AbortController()
    already.abort()
    await expect(connect('memory://', { adapter: memory, signal: already.signal })).rejects.toBeInstanceOf(AbortedError)
  })

  it('is honoured by deadLetters().peek() and redrive(): nothing moves once it has fired', async () => {
    const mq = await connect('memory://abort-dead-letters', { adapter: memory })
    const queue = mq.queue<number>('poison', { retry: false })
    const sub = queue.consume(() => {
      throw new Error('always')
    })
    await sub.ready
    await queue.sendBatch([1, 2, 3])
    const deadLetters = queue.deadLetters()
    for (let waited = 0; (await deadLetters.peek(10)).length < 3 && waited < 5_000; waited += 20) await new Promise((resolve) => setTimeout(resolve, 20))
    await sub.close()
    const controller = new AbortController()
    controller.abort()
    await expect(deadLetters.peek(10, { signal: controller.signal })).rejects.toBeInstanceOf(AbortedError)
    await expect(deadLetters.redrive({ signal: controller.signal })).rejects.toBeInstanceOf(AbortedError)
    expect(await deadLetters.peek(10)).toHaveLength(3)
    const long = new AbortController().signal
    await deadLetters.peek(10, { signal: long })
    expect(getEventListeners(long, 'abort')).toHaveLength(0)
    await mq.close()
  })

  it('closes a subscription when it fires, and the subscription leaves no listener on a long-lived signal', async () => {
    const mq = await connect('memory://abort-subscription', { adapter: memory })
    const long = new AbortController().signal
    for (let index = 0; index < 20; index++) {
      const sub = mq.queue('listeners').consume(() => {}, { signal: long })
      await sub.ready
      await sub.close()
    }
    expect(getEventListeners(long, 'abort')).toHaveLength(0)
    await mq.close()
  })
})
