import { readFileSync } from 'node:fs'
import { type AddressInfo, connect as tcpConnect } from 'node:net'
import { join } from 'node:path'
import { createServer, type Server } from 'node:tls'
import { inspect } from 'node:util'
import { type Anymq, AnymqError, type ConnectionFailure } from '@anymq/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { uniqueName } from './harness.js'

/** How to reach the broker in each refused way; every function connects and sends one message. */
export interface RefusalTarget {
  name: string
  /** The password (or SASL secret) of the real user: no error may contain it in any form. */
  secret: string
  /** Each connects with one thing wrong; a case left out is not run (say why in the adapter's test). */
  cases: Partial<Record<ConnectionFailure, () => Promise<Anymq>>>
}

/**
 * Every refusal is a `ConnectionError` whose `reason` says which one it is, that is not retryable,
 * and that holds the secret nowhere: not in the message, the stack, the cause chain or `util.inspect`.
 * The refusal may come at `connect()` or at the first send (a Redis ACL checks keys per command).
 */
export function describeConnectionRefusals(target: RefusalTarget): void {
  describe(`anymq connection refusals: ${target.name}`, () => {
    for (const [reason, open] of Object.entries(target.cases) as [ConnectionFailure, () => Promise<Anymq>][]) {
      it(`${reason} is a ConnectionError that says so, without the secret`, async () => {
        let connection: Anymq | undefined
        let failure: unknown
        try {
          connection = await open()
          await connection.queue(uniqueName('refused')).send({ hello: 'world' })
        } catch (error) {
          failure = error
        } finally {
          await connection?.close().catch(() => {})
        }
        expect(AnymqError.isInstance(failure), `expected an anymq error, got ${inspect(failure)}`).toBe(true)
        const error = failure as AnymqError & { reason?: ConnectionFailure }
        expect(error.code).toBe('ERR_CONNECTION')
        expect(error.reason).toBe(reason)
        expect(error.isRetryable).toBe(false)
        expect(error.message).toMatch(explanationWords[reason])
        for (const form of secretForms(target.secret)) expect(everythingIn(error)).not.toContain(form)
      })
    }
  })
}

const explanationWords: Record<ConnectionFailure, RegExp> = {
  'tls-untrusted-certificate': /not signed by a trusted CA/,
  'tls-certificate-expired': /expired/,
  'tls-hostname-mismatch': /does not name the host/,
  'tls-handshake': /TLS handshake failed/,
  authentication: /authentication failed/,
  'permission-denied': /permission denied/,
}

/** The secret as given, URL-encoded, and base64 (SASL PLAIN and HTTP Basic carry it so). */
export function secretForms(secret: string): string[] {
  return [secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64')]
}

/** Message, stack and `util.inspect` of an error and every error in its cause chain, as one text. */
export function everythingIn(error: unknown): string {
  const parts: string[] = [inspect(error, { depth: 10, showHidden: true })]
  for (let current = error, depth = 0; current instanceof Error && depth < 10; current = current.cause, depth++) {
    parts.push(current.message, String(current.stack), inspect(current, { depth: 10, showHidden: true }))
  }
  return parts.join('\n')
}

/**
 * A TLS endpoint in front of a broker's plain port that presents a certificate of your choice (an
 * expired one, one for another host): what a client sees when the broker's certificate is wrong,
 * without reconfiguring the broker.
 */
export async function startTlsFront(options: {
  cert: string | Buffer
  key: string | Buffer
  to: { host: string; port: number }
}): Promise<{ port: number; close(): Promise<void> }> {
  const server: Server = createServer({ cert: options.cert, key: options.key }, (socket) => {
    const upstream = tcpConnect(options.to.port, options.to.host)
    socket.pipe(upstream).pipe(socket)
    socket.on('error', () => upstream.destroy())
    upstream.on('error', () => socket.destroy())
  })
  // A client that rejects the certificate aborts the handshake; that is the point, not a failure here.
  server.on('tlsClientError', () => {})
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const sockets = new Set<{ destroy(): void }>()
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

/**
 * Inside a `describe`: starts, before its tests, a TLS front with the expired certificate and one
 * with another host's (`expired.pem`/`.key`, `wrong-host.pem`/`.key` in `certificates`, as
 * scripts/brokers.sh makes them), both forwarding to the broker's plain port, and stops them after.
 * The ports are read in the tests, once the fronts are up.
 */
export function useBadCertificateFronts(certificates: string, to: { host: string; port: number }): { expiredPort(): number; wrongHostPort(): number } {
  const fronts: Record<'expired' | 'wrong-host', { port: number; close(): Promise<void> } | undefined> = { expired: undefined, 'wrong-host': undefined }
  const start = (name: 'expired' | 'wrong-host') =>
    startTlsFront({ cert: readFileSync(join(certificates, `${name}.pem`)), key: readFileSync(join(certificates, `${name}.key`)), to })
  beforeAll(async () => {
    fronts.expired = await start('expired')
    fronts['wrong-host'] = await start('wrong-host')
  })
  afterAll(() => Promise.all(Object.values(fronts).map((front) => front?.close())))
  return { expiredPort: () => fronts.expired?.port ?? 0, wrongHostPort: () => fronts['wrong-host']?.port ?? 0 }
}
