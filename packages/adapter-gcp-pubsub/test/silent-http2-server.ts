import { once } from 'node:events'
import { createServer } from 'node:http2'
import type { Socket } from 'node:net'
import type { SilentServer } from '@anymq/conformance'

/**
 * An HTTP/2 server that completes the handshake and never answers a request, as a Pub/Sub endpoint
 * that hangs. (A server that never completes the handshake is not one a client can let go of: grpc-js
 * waits for its SETTINGS with no timeout and no way to stop, grpc/grpc-node#2785.)
 */
export async function startSilentHttp2Server(): Promise<SilentServer> {
  const sockets = new Set<Socket>()
  let accepted = 0
  const server = createServer()
  server.on('connection', (socket: Socket) => {
    accepted++
    sockets.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => sockets.delete(socket))
  })
  // Streams are left unanswered; a stream the client cancels just closes.
  server.on('stream', (stream) => stream.on('error', () => {}))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as { port: number }).port,
    accepted: () => accepted,
    openSockets: () => sockets.size,
    close: async () => {
      for (const socket of sockets) socket.destroy()
      server.close()
      await once(server, 'close')
    },
  }
}
