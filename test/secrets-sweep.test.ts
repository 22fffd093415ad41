import { execFile } from 'node:child_process'
import { generateKeyPairSync } from 'node:crypto'
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { inspect, promisify } from 'node:util'
import { everythingIn, secretForms } from '@anymq/conformance'
import { type Anymq, connect, type Logger } from '@anymq/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Every broker's connect/send/consume/close with a password, token or key of known value in the URL
// or the options, plus the failure paths (a wrong password or token, a wrong endpoint, the connection
// cut in the middle of sends), with everything captured: stdout, stderr, every logger call at every
// level with its context, and every error's message, stack, cause chain and util.inspect. No secret
// may appear in any form (as given, URL-encoded, base64). The broker SIGKILLed in the middle of sends
// runs only under `pnpm test:secrets-kill` (ANYMQ_SWEEP_KILL=1): inside `pnpm test` it would pull
// the broker from under the other files running beside.

/** How to reach a broker: a URL and `connect()`'s broker options. */
interface Reach {
  url: string
  broker?: Record<string, unknown>
}

interface SweepTarget {
  name: string
  /** Name of the broker in scripts/brokers.sh (for the SIGKILL variant). */
  broker: string
  /** The working connection; `undefined` when the broker is not up. */
  reach: Reach | undefined
  /** Values that must appear nowhere. */
  secrets: string[]
  /** Connections that must fail (a wrong password, a wrong endpoint, credentials where they do not belong). */
  failures: Array<{ what: string; reach: () => Reach }>
  /** The broker's TCP address, and the same connection through a relay on `port` in front of it. */
  relay: { to: () => { host: string; port: number }; through: (port: number) => Reach }
}

const password = process.env.ANYMQ_TLS_PASSWORD
const wrongPassword = 'Sweep-Wr0ng-pass'

function withUrl(url: string, change: (copy: URL) => void): string {
  const copy = new URL(url)
  change(copy)
  return copy.toString()
}
const hostOf = (url: string) => ({ host: new URL(url).hostname.replace(/^localhost$/, '127.0.0.1'), port: Number(new URL(url).port) })

/** A broker whose URL carries a user and password (or a token as the user). */
function passwordTarget(name: string, broker: string, url: string | undefined, secret: string | undefined, wrong: (copy: URL) => void): SweepTarget {
  return {
    name,
    broker,
    reach: url && secret ? { url } : undefined,
    secrets: secret ? [secret, wrongPassword] : [],
    failures: [{ what: 'a wrong password', reach: () => ({ url: withUrl(url as string, wrong) }) }],
    relay: { to: () => hostOf(url as string), through: (port) => ({ url: withUrl(url as string, (copy) => (copy.port = String(port))) }) },
  }
}

// AWS: an access key with a session token, as an assumed role has; moto checks neither, so what is
// swept is what anymq and the SDK do with them. Users also try the URL: a ConfigError, without them.
const awsCredentials = {
  accessKeyId: 'AKIASWEEPTEST0000001',
  secretAccessKey: 'Sweep/Secret+Access=Key0123456789abcdefXYZ',
  sessionToken: 'IQoJb3JpZ2luX2VjSweepSessionToken/+=0123456789abcdefghijklmnopqrstuvwxyz',
}
function awsTarget(name: string, scheme: 'sqs' | 'kinesis', url: string | undefined): SweepTarget {
  const endpoint = url ? new URL(new URL(url).searchParams.get('endpoint') ?? 'http://127.0.0.1:1') : undefined
  const through = (endpointUrl: string): Reach => ({
    url: withUrl(url as string, (copy) => copy.searchParams.set('endpoint', endpointUrl)),
    broker: { credentials: awsCredentials },
  })
  // SQS: a close that aborts its long polls (what the sweep checks is the output, and a default close
  // waits out each poll, up to 20 s per connection).
  const reachUrl = url && scheme === 'sqs' ? withUrl(url, (copy) => copy.searchParams.set('closeWaitsForPolls', 'false')) : url
  return {
    name,
    broker: 'sqs',
    reach: reachUrl ? { url: reachUrl, broker: { credentials: awsCredentials } } : undefined,
    secrets: [awsCredentials.secretAccessKey, awsCredentials.sessionToken],
    failures: [
      { what: 'a wrong endpoint', reach: () => through(`${endpoint?.protocol}//127.0.0.1:1`) },
      {
        what: 'credentials in the URL',
        reach: () => ({
          url: `${scheme}://${awsCredentials.accessKeyId}:${encodeURIComponent(awsCredentials.secretAccessKey)}@us-east-1?endpoint=${endpoint?.origin}`,
        }),
      },
      {
        what: 'credentials as URL parameters',
        reach: () => ({
          url: withUrl(url as string, (copy) => {
            copy.searchParams.set('secretAccessKey', awsCredentials.secretAccessKey)
            copy.searchParams.set('sessionToken', awsCredentials.sessionToken)
          }),
        }),
      },
    ],
    relay: {
      to: () => hostOf(endpoint?.toString() as string),
      through: (port) => through(`${endpoint?.protocol}//${endpoint?.hostname}:${port}`),
    },
  }
}

// Pub/Sub: a service-account key given as `credentials`. The emulator ignores credentials, so what is
// swept is that the private key never shows in what a working, a misdirected or a cut connection says.
const serviceAccountKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
const serviceAccount = {
  type: 'service_account',
  project_id: 'anymq-test',
  private_key_id: 'sweep-key-id',
  private_key: serviceAccountKey,
  client_email: 'sweep@anymq-test.iam.gserviceaccount.com',
}
/** The key's base64 body, line by line: a leak of any line of it is a leak. */
const keyLines = serviceAccountKey.split('\n').filter((line) => line.length > 40 && !line.startsWith('-----'))
function pubsubTarget(url: string | undefined): SweepTarget {
  const endpoint = url ? (new URL(url).searchParams.get('endpoint') ?? '') : ''
  const at = (hostPort: string): Reach => ({
    url: withUrl(url as string, (copy) => {
      copy.searchParams.set('endpoint', hostPort)
      copy.searchParams.set('connectTimeoutMs', '1000')
    }),
    broker: { credentials: serviceAccount },
  })
  return {
    name: 'gcp-pubsub',
    broker: 'pubsub',
    reach: url ? at(endpoint) : undefined,
    secrets: [serviceAccountKey, ...keyLines],
    failures: [{ what: 'a wrong endpoint', reach: () => at('127.0.0.1:1') }],
    relay: { to: () => hostOf(`http://${endpoint}`), through: (port) => at(`127.0.0.1:${port}`) },
  }
}

const natsToken = process.env.ANYMQ_NATS_TOKEN_URL && decodeURIComponent(new URL(process.env.ANYMQ_NATS_TOKEN_URL).username)
const targets = [
  passwordTarget('rabbitmq', 'rabbitmq', process.env.ANYMQ_RABBITMQ_TLS_URL, password, (copy) => (copy.password = wrongPassword)),
  passwordTarget('redis', 'redis', process.env.ANYMQ_REDIS_TLS_URL, password, (copy) => (copy.password = wrongPassword)),
  // The Redis adapter's second client library (the default is node-redis).
  passwordTarget(
    'redis-ioredis',
    'redis',
    process.env.ANYMQ_REDIS_TLS_URL && withUrl(process.env.ANYMQ_REDIS_TLS_URL, (copy) => copy.searchParams.set('driver', 'ioredis')),
    password,
    (copy) => (copy.password = wrongPassword),
  ),
  passwordTarget('kafka', 'kafka', process.env.ANYMQ_KAFKA_TLS_URL, password, (copy) => (copy.password = wrongPassword)),
  passwordTarget('nats', 'nats', process.env.ANYMQ_NATS_TLS_URL, password, (copy) => (copy.password = wrongPassword)),
  passwordTarget('nats-token', 'nats', process.env.ANYMQ_NATS_TOKEN_URL, natsToken, (copy) => (copy.username = wrongPassword)),
  awsTarget('sqs', 'sqs', process.env.ANYMQ_SQS_TLS_URL),
  awsTarget('kinesis', 'kinesis', process.env.ANYMQ_KINESIS_URL && withUrl(process.env.ANYMQ_KINESIS_URL, (copy) => copy.searchParams.set('pollMs', '100'))),
  pubsubTarget(process.env.ANYMQ_PUBSUB_URL),
].filter((target) => target.reach !== undefined)
const killing = process.env.ANYMQ_SWEEP_KILL === '1' && process.env.ANYMQ_BROKERS_SCRIPT !== undefined

const captured: string[] = []
const capturingLogger: Logger = {
  debug: (message, context) => captured.push(message, inspect(context, { depth: 8 })),
  info: (message, context) => captured.push(message, inspect(context, { depth: 8 })),
  warn: (message, context) => captured.push(message, inspect(context, { depth: 8 })),
  error: (message, context) => captured.push(message, inspect(context, { depth: 8 })),
}
const originalWrites = { stdout: process.stdout.write.bind(process.stdout), stderr: process.stderr.write.bind(process.stderr) }
beforeAll(() => {
  for (const stream of ['stdout', 'stderr'] as const) {
    process[stream].write = ((chunk: unknown, ...rest: unknown[]) => {
      captured.push(String(chunk))
      return (originalWrites[stream] as (...args: unknown[]) => boolean)(chunk, ...rest)
    }) as typeof process.stdout.write
  }
})
afterAll(() => {
  process.stdout.write = originalWrites.stdout
  process.stderr.write = originalWrites.stderr
})

/** A TCP relay in front of the broker whose connections can be cut, as a network failure would. */
async function relay(to: { host: string; port: number }): Promise<{ port: number; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    const upstream = tcpConnect(to.port, to.host)
    for (const side of [socket, upstream]) {
      sockets.add(side)
      side.on('close', () => sockets.delete(side))
      side.on('error', () => {})
    }
    socket.pipe(upstream).pipe(socket)
    socket.on('close', () => upstream.destroy())
    upstream.on('close', () => socket.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address() as { port: number }
  const cut = () => {
    for (const socket of sockets) socket.destroy()
  }
  const close = () =>
    new Promise<void>((resolve) => {
      cut()
      server.close(() => resolve())
    })
  return { port: address.port, cut, close }
}

const open = (reach: Reach) => connect(reach.url, { logger: capturingLogger, ...(reach.broker ? { broker: reach.broker } : {}) })

describe.skipIf(targets.length === 0)(`secrets sweep${targets.length === 0 ? ' (ANYMQ_*_TLS_URL unset: run scripts/brokers.sh up)' : ''}`, () => {
  // Side by side: each target's slow part is waiting (a SASL refusal, a JetStream publish timing out
  // after the cut), and every target's secrets are checked against everything captured from all.
  it.concurrent.each(targets)('$name: no secret anywhere, on success or failure', async (target) => {
    const errors: unknown[] = []
    const connections: Anymq[] = []
    const tracked = async (reach: Reach) => {
      const mq = await open(reach)
      connections.push(mq)
      return mq
    }
    try {
      // 1. Everything works: send, consume, close.
      const mq = await tracked(target.reach as Reach)
      const queue = mq.queue<string>(`sweep-${target.name}-${Date.now().toString(36)}`)
      const got = new Promise<string>((resolve) => queue.consume((message) => resolve(message.body)))
      await queue.send('hello')
      expect(await got).toBe('hello')
      await mq.close()

      // 2. Each wrong way to connect fails, at connect() or at the first send.
      for (const failure of target.failures) {
        const outcome = await tracked(failure.reach())
          .then((wrong) => wrong.queue<string>(`sweep-wrong-${target.name}-${Date.now().toString(36)}`).send('never'))
          .then(
            () => 'accepted',
            (error: unknown) => {
              errors.push(error)
              return 'refused'
            },
          )
        expect(outcome, `${target.name} with ${failure.what}`).toBe('refused')
      }

      // 3. The connection cut in the middle of sends (through a relay that keeps accepting, so the
      // adapter may reconnect); each send either resolves or rejects with an error we sweep.
      const relayed = await relay(target.relay.to())
      try {
        const cutMq = await tracked(target.relay.through(relayed.port))
        const cutQueue = cutMq.queue<string>(`sweep-cut-${target.name}-${Date.now().toString(36)}`)
        await cutQueue.send('before the cut')
        const sends = Array.from({ length: 20 }, (_, index) => {
          if (index === 5) relayed.cut()
          return cutQueue.send(`m${index}`).catch((error: unknown) => errors.push(error))
        })
        await Promise.all(sends)
        await cutMq.close().catch((error: unknown) => errors.push(error))
      } finally {
        await relayed.close()
      }
    } finally {
      await Promise.all(connections.map((mq) => mq.close().catch((error: unknown) => errors.push(error))))
    }
    expect(errors.length, 'the wrong connections must have failed').toBeGreaterThanOrEqual(target.failures.length)
    expectNoSecret(target, errors)
  })
})

function expectNoSecret(target: SweepTarget, errors: unknown[]): void {
  console.info(`secrets sweep ${target.name}: ${errors.length} errors and ${captured.length} captured writes and log lines swept`)
  const everything = [...captured, ...errors.map(everythingIn)].join('\n')
  for (const form of target.secrets.flatMap(secretForms)) {
    expect(everything.includes(form), `'${form}' was written or thrown`).toBe(false)
  }
}

// Brokers whose restart keeps their state: moto and pstest start empty, so a queue anymq made before
// the kill is gone after it (the sends then fail for that reason, not for the kill).
const killable = new Set(['rabbitmq', 'redis', 'kafka', 'nats'])
describe.skipIf(!killing)('secrets sweep, broker SIGKILLed mid-send (run pnpm test:secrets-kill)', () => {
  it.each(targets.filter((target) => killable.has(target.broker)))(
    '$name: no secret anywhere while the broker dies and comes back; every send confirmed or failed',
    async (target) => {
      const errors: unknown[] = []
      const mq = await open(target.reach as Reach)
      try {
        const queue = mq.queue<string>(`sweep-kill-${target.name}-${Date.now().toString(36)}`)
        await queue.send('before')
        const restart = promisify(execFile)(process.env.ANYMQ_BROKERS_SCRIPT as string, ['restart', '--kill', target.broker], { timeout: 240_000 })
        let settled = 0
        const sends = Array.from({ length: 40 }, async (_, index) => {
          await new Promise((resolve) => setTimeout(resolve, index * 50))
          await queue.send(`m${index}`).catch((error: unknown) => errors.push(error))
          settled++
        })
        await Promise.all([...sends, restart])
        expect(settled).toBe(40)
        // After the restart the connection recovers and sends again.
        for (let tries = 0; ; tries++) {
          try {
            await queue.send('after')
            break
          } catch (error) {
            errors.push(error)
            if (tries > 60) throw error
            await new Promise((resolve) => setTimeout(resolve, 500))
          }
        }
      } finally {
        await mq.close().catch((error: unknown) => errors.push(error))
      }
      expectNoSecret({ ...target, name: `${target.name} (killed)` }, errors)
    },
  )
})
