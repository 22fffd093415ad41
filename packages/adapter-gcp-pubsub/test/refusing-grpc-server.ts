import { once } from 'node:events'
import { createServer, type Http2Server } from 'node:http2'

/**
 * A plain-text gRPC endpoint that answers every call with one status (a trailers-only response), as
 * Pub/Sub answers a call whose credentials it refuses. pstest checks no credentials, so this is how the
 * adapter sees UNAUTHENTICATED (16) and PERMISSION_DENIED (7) here.
 */
export async function startRefusingGrpcServer(status: number, message: string): Promise<{ port: number; close(): Promise<void> }> {
  const server: Http2Server = createServer()
  server.on('stream', (stream) => {
    stream.on('error', () => {})
    stream.respond(
      { ':status': 200, 'content-type': 'application/grpc', 'grpc-status': String(status), 'grpc-message': encodeURIComponent(message) },
      { endStream: true },
    )
  })
  server.on('session', (session) => session.on('error', () => {}))
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    port: (server.address() as { port: number }).port,
    close: async () => {
      server.close()
      await once(server, 'close')
    },
  }
}
