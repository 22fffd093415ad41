import { createConnection, type Socket } from 'node:net'
import { AbortedError } from '@anymq/core/spi'
import { type NatsConnection, NatsConnectionImpl, type NodeConnectionOptions, setTransportFactory } from '@nats-io/transport-node'
// The client has no way to stop a connect: its transport is subclassed so that a signal can. The
// package has no `exports` map, so its transport module is reachable by path.
import { NodeTransport, nodeResolveHost } from '@nats-io/transport-node/lib/node_transport.js'

/** The option that carries the dial signal to each transport: the client copies unknown options to the transport as they are. */
const dialSignalOption = 'anymqDialSignal'

type Endpoint = Parameters<NodeTransport['connect']>[0]

/**
 * The client's Node transport, except that it lets go of a socket it is still opening (TCP, TLS, the
 * wait for the server's INFO): once the dial signal fires, and when the client gives up on it (its
 * connect timeout), which the client's own transport ignores until the server hangs up.
 */
class AbortableNodeTransport extends NodeTransport {
  private dialSignal: AbortSignal | undefined
  private opening: Socket | undefined

  override async connect(endpoint: Endpoint, options: NodeConnectionOptions): Promise<void> {
    const signal = (options as Record<string, unknown>)[dialSignalOption] as AbortSignal | undefined
    if (signal?.aborted) throw new AbortedError('connect', { adapter: 'nats' })
    this.dialSignal = signal
    // Kept until this transport closes: the CONNECT/PONG exchange after connect() resolves is still dialing.
    const drop = () => this.dropOpening()
    signal?.addEventListener('abort', drop, { once: true })
    try {
      await super.connect(endpoint, options)
    } catch (error) {
      signal?.removeEventListener('abort', drop)
      throw signal?.aborted ? new AbortedError('connect', { adapter: 'nats', cause: error }) : error
    }
    this.opening = undefined
    if (signal) void this.closed().then(() => signal.removeEventListener('abort', drop))
  }

  /** The client's own dial (see NodeTransport.dial), with the dial signal given to the socket and the socket kept at hand. */
  override dial(endpoint: { hostname: string; port: number }): Promise<Socket> {
    return new Promise((resolve, reject) => {
      let dialError: Error | undefined
      const socket = createConnection({ port: endpoint.port, host: endpoint.hostname, signal: this.dialSignal }, () => {
        socket.removeAllListeners()
        resolve(socket)
      })
      this.opening = socket
      socket.on('error', (error) => {
        dialError = error
      })
      socket.on('close', () => {
        socket.removeAllListeners()
        reject(dialError)
      })
      socket.setNoDelay(true)
    })
  }

  override close(error?: Error): Promise<void> {
    if (!this.connected) this.dropOpening()
    return super.close(error)
  }

  private dropOpening(): void {
    this.opening?.destroy()
    this.socket?.destroy()
  }
}

/**
 * The client's `connect()`, with `signal` heeded while it dials: once it fires, the socket being
 * opened is destroyed and no other server is tried. The signal must not fire once the connection is
 * up: reconnects dial with it too.
 */
export function dialNats(options: NodeConnectionOptions, signal: AbortSignal): Promise<NatsConnection> {
  // The factory is one for the process, and the client's own connect() puts back its plain one: set
  // it for each connect (a connect racing a plain one may dial without the signal, as before).
  setTransportFactory({ factory: () => new AbortableNodeTransport(), dnsResolveFn: nodeResolveHost })
  return NatsConnectionImpl.connect({ ...options, [dialSignalOption]: signal } as NodeConnectionOptions)
}
