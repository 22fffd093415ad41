import { createConnection, createServer, type Server, type Socket } from 'node:net'
import { brokerUrl, uniqueName, waitUntil } from '@anymq/conformance'
import { type Anymq, type ConnectionEvent, connect } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_SQS_URL')

/** A TCP relay in front of the emulator that the test can cut and restore: a network outage without stopping the broker. */
class Relay {
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()
  port = 0

  constructor(private readonly target: { host: string; port: number }) {}

  async open(): Promise<void> {
    const server = createServer((client) => {
      const upstream = createConnectionTo(this.target)
      for (const socket of [client, upstream]) {
        this.sockets.add(socket)
        socket.on('close', () => this.sockets.delete(socket))
        socket.on('error', () => {})
      }
      client.pipe(upstream).pipe(client)
    })
    this.server = server
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve))
    this.port = (server.address() as { port: number }).port
  }

  /** Stops listening and resets every relayed connection: requests now fail as if the network were down. */
  async cut(): Promise<void> {
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
    this.server = undefined
  }
}

function createConnectionTo(target: { host: string; port: number }): Socket {
  return createConnection(target.port, target.host)
}

describe.skipIf(!url)(`aws producer-side connection health${!url ? ' (ANYMQ_SQS_URL unset)' : ''}`, () => {
  const open: Anymq[] = []
  const relays: Relay[] = []
  afterEach(async () => {
    await Promise.allSettled(open.splice(0).map((mq) => mq.close()))
    await Promise.allSettled(relays.splice(0).map((relay) => relay.cut()))
  })

  it('a send that cannot reach SQS moves the state to reconnecting with its cause, the next send that gets through back to connected', async () => {
    const endpoint = new URL(new URL(url as string).searchParams.get('endpoint') as string)
    const relay = new Relay({ host: endpoint.hostname, port: Number(endpoint.port) })
    relays.push(relay)
    await relay.open()
    const relayed = new URL(url as string)
    relayed.searchParams.set('endpoint', `http://127.0.0.1:${relay.port}`)
    const mq = await connect(relayed.toString(), { adapter })
    open.push(mq)
    const events: ConnectionEvent[] = []
    mq.onConnectionState((event) => events.push(event))
    // No consumer anywhere: only the producer can tell.
    const queue = mq.queue<string>(uniqueName('producer-health'))
    await queue.send('before')
    expect(mq.health().state).toBe('connected')

    await relay.cut()
    await expect(queue.send('during')).rejects.toMatchObject({ isRetryable: true })
    expect(mq.health()).toMatchObject({ state: 'reconnecting', ready: false })
    expect(events.some((event) => event.state === 'reconnecting' && event.cause !== undefined)).toBe(true)

    await relay.open()
    await waitUntil(
      async () => {
        await queue.send('after').catch(() => {})
        return mq.health().state === 'connected'
      },
      30_000,
      'connected again after a send got through',
    )
    expect(mq.health().ready).toBe(true)
    expect(mq.health().reconnects).toBeGreaterThanOrEqual(1)
  })
})
