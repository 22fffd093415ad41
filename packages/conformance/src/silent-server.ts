import { createServer, type Server, type Socket } from 'node:net'

/** A TCP server that accepts connections and never sends a byte. */
export interface SilentServer {
  readonly port: number
  /** Connections accepted so far. */
  accepted(): number
  /** Connections the client has not closed yet. */
  openSockets(): number
  close(): Promise<void>
}

/**
 * Accepts TCP connections and never answers: a broker that hangs while a client connects, or a plain
 * port spoken TLS to. Adapters' connect-signal and connect-deadline tests count what the client left open.
 */
export async function startSilentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>()
  let accepted = 0
  const server: Server = createServer((socket) => {
    accepted++
    sockets.add(socket)
    socket.on('error', () => {})
    // Reads (and drops) what the client sends: a socket never read would not see the client's close.
    socket.resume()
    socket.once('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    accepted: () => accepted,
    openSockets: () => sockets.size,
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
