import { type AddressInfo, createConnection, createServer, type Server, type Socket } from 'node:net'

/**
 * A fault-injecting TCP proxy on loopback: `listenPort` forwards to `targetPort`, and `cut()` destroys
 * every live connection at once (both sides, no FIN handshake on the client side: a reset), then
 * refuses new ones for `refuseMs`. Our own ~60 lines instead of toxiproxy: the suite needs only
 * "cut everything now", and this needs neither a Go build nor a daemon to manage.
 */
export class ChaosProxy {
  private readonly server: Server
  private readonly sockets = new Set<Socket>()
  private refusingUntil = 0
  /** Connections cut so far. */
  cutCount = 0

  private constructor(
    readonly listenPort: number,
    readonly targetPort: number,
  ) {
    this.server = createServer((client) => this.accept(client))
  }

  /** The port it listens on (the one the system chose when started on port 0). */
  get port(): number {
    return (this.server.address() as AddressInfo).port
  }

  static async start(listenPort: number, targetPort: number): Promise<ChaosProxy> {
    const proxy = new ChaosProxy(listenPort, targetPort)
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject)
      proxy.server.listen(listenPort, '127.0.0.1', () => resolve())
    })
    return proxy
  }

  private accept(client: Socket): void {
    if (Date.now() < this.refusingUntil) {
      client.resetAndDestroy()
      return
    }
    const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort })
    client.setNoDelay(true)
    upstream.setNoDelay(true)
    this.sockets.add(client)
    this.sockets.add(upstream)
    const drop = () => {
      this.sockets.delete(client)
      this.sockets.delete(upstream)
      client.destroy()
      upstream.destroy()
    }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream)
    upstream.pipe(client)
  }

  /** Resets every live connection; new ones are refused for `refuseMs`. */
  cut(refuseMs = 0): number {
    this.refusingUntil = Date.now() + refuseMs
    const cut = this.sockets.size
    for (const socket of this.sockets) socket.resetAndDestroy()
    this.sockets.clear()
    this.cutCount += cut
    return cut
  }

  async close(): Promise<void> {
    this.cut()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }
}
