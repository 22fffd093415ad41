import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import {
  brokerUrl,
  describeConformance,
  describeConnectionRefusals,
  everythingIn,
  type SilentServer,
  startSilentServer,
  useBadCertificateFronts,
} from '@anymq/conformance'
import { connect } from '@anymq/core'
import { AbortedError, AnymqError, type ConnectionError } from '@anymq/core/spi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adapter, capabilities } from '../src/index.js'
import { drivers, withDriver } from './drivers.js'
import { type PrivateRedis, redisServerAvailable, startPrivateRedis } from './private-servers.js'

// rediss:// as an ACL user with a password, from scripts/brokers.sh (the CA is in the URL's ?ca=).
const url = brokerUrl('ANYMQ_REDIS_TLS_URL')
const plainUrl = brokerUrl('ANYMQ_REDIS_URL')

describe.skipIf(!url || !plainUrl).each(drivers)('redis over TLS, %s driver (ANYMQ_REDIS_TLS_URL unset: run scripts/brokers.sh up redis)', (driver) => {
  // The body runs to collect tests even when the suite is skipped: no URL must not throw here.
  const tlsUrl = new URL(withDriver(url ?? 'unset://tls', driver))
  const certificates = process.env.ANYMQ_TLS_DIR ?? tlsUrl.searchParams.get('ca')?.replace(/\/ca\.pem$/, '') ?? ''
  const file = (name: string) => join(certificates, name)
  const withUrl = (change: (url: URL) => void) => {
    const copy = new URL(tlsUrl)
    change(copy)
    return connect(copy.toString(), { adapter })
  }

  describeConformance({
    name: `redis (rediss, ACL user with a password, ${driver})`,
    capabilities,
    connect: () => connect(tlsUrl.toString(), { adapter }),
    groups: ['round-trip', 'queue', 'retry', 'request-reply'],
  })

  // Mutual TLS: Redis checks a client certificate when one is sent (tls-auth-clients optional).
  describeConformance({
    name: `redis (rediss with a client certificate, ${driver})`,
    capabilities,
    connect: () => connect(tlsUrl.toString(), { adapter, broker: { tls: { cert: file('client.pem'), key: file('client.key') } } }),
    groups: ['round-trip'],
  })

  // Certificates the broker itself cannot be made to present (expired, another host's) are
  // presented by a TLS front on a port of its own that forwards to the broker's plain port.
  const plain = new URL(plainUrl ?? 'unset://plain')
  const fronts = useBadCertificateFronts(certificates, { host: plain.hostname, port: Number(plain.port) })

  describeConnectionRefusals({
    name: `redis (rediss, ${driver})`,
    secret: decodeURIComponent(tlsUrl.password),
    cases: {
      'tls-untrusted-certificate': () => withUrl((copy) => copy.searchParams.set('ca', file('other-ca.pem'))),
      'tls-certificate-expired': () => withUrl((copy) => (copy.port = String(fronts.expiredPort()))),
      'tls-hostname-mismatch': () => withUrl((copy) => (copy.port = String(fronts.wrongHostPort()))),
      // No 'tls-handshake' case: Redis' plain port never answers a TLS ClientHello (it waits for a
      // line), so the client can only time out, as with a broker that does not answer at all.
      authentication: () => withUrl((copy) => (copy.password = 'not-the-password')),
      // Authenticated, but its ACL allows no key: refused at the first send.
      'permission-denied': () => withUrl((copy) => (copy.username = 'anymq-noperm')),
    },
  })
})

/** What `connect` rejected with (failing the test when it resolved), and how long it took. */
async function refusalOf(opening: Promise<{ close(): Promise<void> }>): Promise<{ error: ConnectionError; ms: number }> {
  const started = Date.now()
  try {
    const mq = await opening
    await mq.close()
  } catch (error) {
    expect(AnymqError.isInstance(error), `expected an anymq error, got ${String(error)}`).toBe(true)
    expect((error as AnymqError).code).toBe('ERR_CONNECTION')
    return { error: error as ConnectionError, ms: Date.now() - started }
  }
  throw new Error('connect resolved: the broker was expected to refuse it or not to answer')
}

// Servers of the test's own (not the shared Redis): one that requires a password, one that takes the TCP
// connection and never answers (what TLS spoken to a plain port looks like). `connect` resolves only once
// Redis answered, so neither may resolve, on either driver.
describe.skipIf(!redisServerAvailable).each(drivers)('redis connect proves the server answers, %s driver (no redis-server on PATH)', (driver) => {
  const password = 'Pr1vate-t3st-pass'
  let redis: PrivateRedis
  let silent: SilentServer
  beforeAll(async () => {
    ;[redis, silent] = await Promise.all([startPrivateRedis(password), startSilentServer()])
  })
  afterAll(async () => {
    await Promise.allSettled([redis?.stop(), silent?.close()])
  })

  it('connects with the password (the private server works)', async () => {
    const mq = await connect(withDriver(`redis://:${password}@127.0.0.1:${redis.port}`, driver), { adapter })
    try {
      expect(mq.health().ready).toBe(true)
    } finally {
      await mq.close()
    }
  })

  it('without the password, connect rejects with an authentication ConnectionError', async () => {
    const { error } = await refusalOf(connect(withDriver(`redis://127.0.0.1:${redis.port}`, driver), { adapter }))
    expect(error.reason).toBe('authentication')
    expect(error.isRetryable).toBe(false)
    expect(error.message).toMatch(/authentication failed.*NOAUTH/)
    expect(error.message).toContain(`127.0.0.1:${redis.port}`)
  })

  it('with a wrong password, connect rejects without leaking the password tried', async () => {
    const wrong = 'Wr0ng-t3st-pass'
    const { error } = await refusalOf(connect(withDriver(`redis://:${wrong}@127.0.0.1:${redis.port}`, driver), { adapter }))
    expect(error.reason).toBe('authentication')
    expect(everythingIn(error)).not.toContain(wrong)
  })

  it('after a refused password, connect() rejects without logging a reconnect, and nothing holds the process', async () => {
    const child = spawn(
      process.execPath,
      [
        '--conditions=@anymq/source',
        '--import',
        'tsx',
        fileURLToPath(new URL('./refused-connect-child.ts', import.meta.url)),
        withDriver(`redis://:Wr0ng-t3st-pass@127.0.0.1:${redis.port}`, driver),
      ],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), stdio: ['ignore', 'pipe', 'inherit'] },
    )
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString()
    })
    const [code] = (await once(child, 'exit')) as [number | null]
    expect(code).toBe(0)
    const report = JSON.parse(output.trim().split('\n').at(-1) as string) as { reason: string; aliveAfterRejectMs: number; logged: string[] }
    expect(report.reason).toBe('authentication')
    // ioredis logged "reconnecting" for the refusal connect() was about to report.
    expect(report.logged).toEqual([])
    // ioredis' disconnect timer (2 s) kept the process alive after the rejection.
    expect(report.aliveAfterRejectMs).toBeLessThan(1_500)
  }, 20_000)

  // With a password the client sends AUTH first and waits; without one node-redis sent nothing and connected at once.
  it.each([
    ['with a password', `:${password}@`],
    ['without a password', ''],
  ])(
    'against a server that never answers (%s), connect rejects within connectTimeoutMs and leaves no socket open',
    async (_, credentials) => {
      const connectTimeoutMs = 500
      const accepted = silent.accepted()
      const { error, ms } = await refusalOf(
        connect(withDriver(`redis://${credentials}127.0.0.1:${silent.port}?connectTimeoutMs=${connectTimeoutMs}`, driver), { adapter }),
      )
      expect(ms).toBeGreaterThanOrEqual(connectTimeoutMs - 50)
      expect(ms).toBeLessThan(connectTimeoutMs + 1500)
      expect(error.reason).toBeUndefined()
      expect(error.isRetryable).toBe(true)
      expect(error.message).toContain(`127.0.0.1:${silent.port}`)
      expect(error.message).toMatch(/did not answer within connectTimeoutMs \(500 ms\)/)
      expect(everythingIn(error)).not.toContain(password)
      // The client let go of the socket it opened, and opened no other (it does not retry a failed connect).
      await expect.poll(() => silent.openSockets(), { timeout: 2000 }).toBe(0)
      expect(silent.accepted() - accepted).toBe(1)
    },
    10_000,
  )

  it('when the connect signal fires before the server answers, connect rejects with AbortedError and drops the socket at once', async () => {
    const accepted = silent.accepted()
    const error = await connect(withDriver(`redis://:${password}@127.0.0.1:${silent.port}?connectTimeoutMs=60000`, driver), {
      adapter,
      signal: AbortSignal.timeout(300),
    }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(AbortedError)
    // Before, the socket stayed open (and held the process) until connectTimeoutMs.
    await expect.poll(() => silent.openSockets(), { timeout: 3000 }).toBe(0)
    expect(silent.accepted() - accepted).toBe(1)
  })

  it('a connect signal that fires after connect resolved leaves the connection be', async () => {
    const controller = new AbortController()
    const mq = await connect(withDriver(`redis://:${password}@127.0.0.1:${redis.port}`, driver), { adapter, signal: controller.signal })
    const states: string[] = []
    mq.onConnectionState((event) => states.push(event.state))
    try {
      controller.abort()
      await new Promise((resolve) => setTimeout(resolve, 300))
      await mq.queue<string>('after-abort').send('still connected')
      expect(states).toEqual([])
      expect(mq.health().ready).toBe(true)
    } finally {
      await mq.close()
    }
  })
})
