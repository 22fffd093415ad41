import type { JsMsg } from '@nats-io/jetstream'
import type { Msg, NatsConnection } from '@nats-io/transport-node'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { NatsPuller } from '../src/nats-puller.js'

/** The part of a connection a puller uses, with the server's side played by the test. */
class ScriptedConnection {
  info = { server_id: 'server', client_id: 1 }
  readonly requests: Array<{ subject: string; reply: string; body: { batch: number; expires: number } }> = []
  private inbox: ((error: Error | null, message: Msg) => void) | undefined

  subscribe(_subject: string, options: { callback: (error: Error | null, message: Msg) => void }) {
    this.inbox = options.callback
    return { isClosed: () => false, unsubscribe() {} }
  }

  publish(subject: string, data: string, options: { reply: string }): void {
    this.requests.push({ subject, reply: options.reply, body: JSON.parse(data) })
  }

  flush(): Promise<void> {
    return Promise.resolve()
  }

  /** A stream message, as the server sends it for a pull: on its own subject, not the request's. */
  sendMessage(sequence: number): void {
    const reply = `$JS.ACK.orders.worker.1.${sequence}.${sequence}.1700000000000000000.0`
    this.inbox?.(null, { subject: 'orders.created', reply, data: new Uint8Array(), headers: undefined, sid: 1 } as unknown as Msg)
  }

  /** A status (404, 408, 409) on the request's own reply subject. */
  sendStatus(request: string, code: number): void {
    this.inbox?.(null, { subject: request, data: new Uint8Array(), headers: { code, description: '' }, sid: 1 } as unknown as Msg)
  }
}

const expiresMs = 1000

function puller(connection: ScriptedConnection, received: JsMsg[]): NatsPuller {
  return new NatsPuller(connection as unknown as NatsConnection, '$JS.API', 'orders', 'worker', expiresMs, (message) => received.push(message))
}

/** `request` left unanswered by the server through every expiry the puller waits: its error message. */
async function unansweredThroughout(request: Promise<void>): Promise<string> {
  const outcome = request.then(
    () => 'served',
    (error: Error) => error.message,
  )
  await vi.advanceTimersByTimeAsync(5 * (expiresMs + 200))
  return outcome
}

describe('NatsPuller', () => {
  afterEach(() => {
    vi.useRealTimers()
  })

  it('asks the consumer for a batch with its own reply subject, ended by the server’s 408', async () => {
    const connection = new ScriptedConnection()
    const received: JsMsg[] = []
    const pulling = puller(connection, received)
    const done = pulling.pull(4)
    expect(connection.requests).toEqual([
      { subject: '$JS.API.CONSUMER.MSG.NEXT.orders.worker', reply: expect.any(String), body: { batch: 4, expires: expiresMs * 1_000_000 } },
    ])
    connection.sendMessage(1)
    connection.sendStatus(connection.requests[0]?.reply as string, 408)
    await expect(done).resolves.toBeUndefined()
    expect(received.map((message) => message.seq)).toEqual([1])
    expect(pulling.owed()).toBe(0)
  })

  it('counts what a request lost with its connection may still bring, until the server has expired it', async () => {
    vi.useFakeTimers({ now: 1_000_000 })
    const connection = new ScriptedConnection()
    const received: JsMsg[] = []
    const pulling = puller(connection, received)
    const lost = pulling.pull(5).then(
      () => 'served',
      (error: Error) => error.message,
    )
    connection.sendMessage(1)
    // The client reconnected (a new client id); the server of the old connection may still serve the request.
    connection.info = { server_id: 'server', client_id: 2 }
    await vi.advanceTimersByTimeAsync(expiresMs + 200)
    expect(await lost).toMatch(/was lost with its connection/)
    expect(pulling.owed()).toBe(4)
    expect(pulling.owedUntil()).toBe(Date.now() + expiresMs + 200)

    await vi.advanceTimersByTimeAsync(expiresMs + 200)
    expect(pulling.owed()).toBe(0)
    expect(pulling.owedUntil()).toBeUndefined()
  })

  it('counts what comes while a lost request is owed against it, not against the request that replaced it', async () => {
    vi.useFakeTimers({ now: 1_000_000 })
    const connection = new ScriptedConnection()
    const received: JsMsg[] = []
    const pulling = puller(connection, received)
    const lost = pulling.pull(3).catch(() => {})
    connection.info = { server_id: 'server', client_id: 2 }
    await vi.advanceTimersByTimeAsync(expiresMs + 200)
    await lost
    let served = false
    const next = pulling.pull(1).then(() => {
      served = true
    })
    for (const sequence of [1, 2, 3]) connection.sendMessage(sequence)
    await Promise.resolve()
    expect(pulling.owed()).toBe(0)
    expect(served).toBe(false)
    connection.sendMessage(4)
    await next
    expect(received.map((message) => message.seq)).toEqual([1, 2, 3, 4])
  })

  // JetStream takes pull requests up on its own queue: a server short of CPU can read a request (the
  // flush round trip comes back) and serve it many expiries later. CI saw it: the request given up after
  // five expiries was served after the short owed time, beside its replacement, and one consumer held
  // two deliveries of one message (the conformance lease case got attempt 3).
  it('owes what an unanswered request on a live connection may bring until the server ends it', async () => {
    vi.useFakeTimers({ now: 1_000_000 })
    const connection = new ScriptedConnection()
    const pulling = puller(connection, [])
    let ended = 0
    pulling.onOwedEnded = () => ended++
    expect(await unansweredThroughout(pulling.pull(2))).toMatch(/after 5 expiries/)
    // Well past its own expiry, and still owed: the server has not ended it.
    await vi.advanceTimersByTimeAsync(10 * expiresMs)
    expect(pulling.owed()).toBe(2)
    connection.sendMessage(1)
    expect(pulling.owed()).toBe(1)
    connection.sendStatus(connection.requests[0]?.reply as string, 408)
    expect(pulling.owed()).toBe(0)
    expect(ended).toBe(1)
  })

  it('stops owing for an unanswered request after a bound, so a consumer never waits for good', async () => {
    vi.useFakeTimers({ now: 1_000_000 })
    const connection = new ScriptedConnection()
    const pulling = puller(connection, [])
    await unansweredThroughout(pulling.pull(1))
    expect(pulling.owed()).toBe(1)
    await vi.advanceTimersByTimeAsync(30_000)
    expect(pulling.owed()).toBe(0)
  })

  // A CI run saw the other side of the bound: the server answered none of one request's five expiries,
  // and the consumer, owing its whole prefetch to it, stood still past the conformance case's 15 s.
  it('stops owing for an unanswered request one expiry after a later request is answered', async () => {
    vi.useFakeTimers({ now: 1_000_000 })
    const connection = new ScriptedConnection()
    const pulling = puller(connection, [])
    const unanswered = pulling.pull(4)
    expect(pulling.mayProbe()).toBe(false)
    await unansweredThroughout(unanswered)
    expect(pulling.owed()).toBe(4)
    expect(pulling.mayProbe()).toBe(true)
    const probed = pulling.probe()
    expect(connection.requests[1]?.body.batch).toBe(1)
    // JetStream takes requests up in order: the probe's 408 means the first was taken up, so it is served
    // or expired within one expiry.
    connection.sendStatus(connection.requests[1]?.reply as string, 408)
    await probed
    expect(pulling.owed()).toBe(4)
    expect(pulling.mayProbe()).toBe(false)
    expect(pulling.owedUntil()).toBe(Date.now() + expiresMs + 200)
    await vi.advanceTimersByTimeAsync(expiresMs + 200)
    expect(pulling.owed()).toBe(0)
  })

  it('sends one probe at a time: a probe the server leaves unanswered too is not followed by another', async () => {
    vi.useFakeTimers({ now: 1_000_000 })
    const connection = new ScriptedConnection()
    const pulling = puller(connection, [])
    await unansweredThroughout(pulling.pull(4))
    expect(await unansweredThroughout(pulling.probe())).toMatch(/after 5 expiries/)
    expect(pulling.owed()).toBe(5)
    expect(pulling.mayProbe()).toBe(false)
  })

  it('owes nothing for a request the server ended', async () => {
    vi.useFakeTimers({ now: 1_000_000 })
    const connection = new ScriptedConnection()
    const pulling = puller(connection, [])
    const done = pulling.pull(3)
    connection.sendStatus(connection.requests[0]?.reply as string, 404)
    await done
    connection.info = { server_id: 'server', client_id: 2 }
    await vi.advanceTimersByTimeAsync(expiresMs + 200)
    expect(pulling.owed()).toBe(0)
  })
})
