import { once } from 'node:events'
import { createServer, type Server, Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'

/** A TCP relay in front of a broker, for the network faults a test needs; see {@link startTcpRelay}. */
export interface TcpRelay {
  /** The broker URL given, pointing at the relay instead (host 127.0.0.1, the relay's port). */
  readonly url: URL
  /**
   * From now on passes what a client writes `ms` late, in order, as a server starved of CPU reads it
   * late. What the server writes still passes at once.
   */
  lag(ms: number): void
  /** Forwards nothing either way and closes nothing, as a network that drops packets: no error ever comes. */
  freeze(): void
  /** Forwards again; what came while frozen stays dropped. */
  thaw(): void
  /** Closes the relay and every connection through it. */
  close(): Promise<void>
}

/** Starts a relay on a free loopback port to `target`'s host and port, one upstream connection per client. */
export async function startTcpRelay(target: URL): Promise<TcpRelay> {
  let lagMs = 0
  let frozen = false
  const sockets = new Set<Socket>()
  const server: Server = createServer((client) => {
    const upstream = new Socket().connect(Number(target.port), target.hostname)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => {
        sockets.delete(socket)
        client.destroy()
        upstream.destroy()
      })
    }
    let passed = Promise.resolve()
    client.on('data', (data: Buffer) => {
      if (frozen) return
      if (lagMs === 0) {
        passed = passed.then(() => {
          upstream.write(data)
        })
        return
      }
      const due = Date.now() + lagMs
      passed = passed.then(async () => {
        await sleep(Math.max(0, due - Date.now()))
        upstream.write(data)
      })
    })
    upstream.on('data', (data: Buffer) => {
      if (!frozen) client.write(data)
    })
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const url = new URL(target.href)
  url.hostname = '127.0.0.1'
  url.port = String((server.address() as { port: number }).port)
  return {
    url,
    lag: (ms) => {
      lagMs = ms
    },
    freeze: () => {
      frozen = true
    },
    thaw: () => {
      frozen = false
    },
    close: async () => {
      for (const socket of sockets) socket.destroy()
      server.close()
      await once(server, 'close')
    },
  }
}
