import { readFileSync } from 'node:fs'
import { type AddressInfo, createServer, type Socket } from 'node:net'
import { join } from 'node:path'
import { TLSSocket } from 'node:tls'
import { afterAll, beforeAll } from 'vitest'

// What a nats-server says first on a TLS listener: TLS comes after this plaintext INFO, so the
// TLS fronts the other brokers' tests use (TLS from the first byte) cannot stand in for it.
const info = `INFO ${JSON.stringify({
  server_id: 'anymq-tls-front',
  server_name: 'anymq-tls-front',
  version: '2.9.0',
  proto: 1,
  host: '127.0.0.1',
  port: 0,
  headers: true,
  max_payload: 1048576,
  tls_required: true,
})}\r\n`

/**
 * Inside a `describe`: a listener that greets like a nats-server with TLS required, then presents
 * the certificate `name` (`<name>.pem`/`.key` in `certificates`, as scripts/brokers.sh makes them).
 * It serves no protocol after the handshake: a client that accepts the certificate only times out.
 */
export function useNatsTlsFront(certificates: string, name: string): { port(): number } {
  // Read when the suite runs, not when it is collected: a skipped suite (no broker, no certificates) must not throw.
  let cert: Buffer | undefined
  let key: Buffer | undefined
  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
    socket.on('error', () => {})
    socket.write(info)
    // A client that rejects the certificate aborts the handshake; that is the point, not a failure here.
    new TLSSocket(socket, { isServer: true, cert, key }).on('error', () => socket.destroy())
  })
  let port = 0
  beforeAll(async () => {
    cert = readFileSync(join(certificates, `${name}.pem`))
    key = readFileSync(join(certificates, `${name}.key`))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as AddressInfo).port
  })
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  )
  return { port: () => port }
}
