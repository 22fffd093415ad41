import { everythingIn, secretForms } from '@anymq/conformance'
import { AnymqError, connect } from '@anymq/core'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'

// Property-based, seeded and bounded: connection URLs of every scheme (odd ports, encoded and
// malformed credentials, known and unknown query options with odd values) and random `broker`
// option objects. connect() either resolves (and closes) or rejects with an anymq error, within a
// bound, and no error holds the password in any form. Only loopback port 1 (closed) or invalid
// ports are targeted, so nothing reaches a real broker.
const seed = Number(process.env.ANYMQ_FUZZ_SEED ?? 16_2026)
const scale = Number(process.env.ANYMQ_FUZZ_SCALE ?? 1)
const secret = 'Fuzz-S3cret-pw'

const schemes = {
  memory: ['memory'],
  rabbitmq: ['amqp', 'amqps'],
  kafka: ['kafka'],
  redis: ['redis', 'rediss'],
  aws: ['sqs'],
  nats: ['nats'],
  'gcp-pubsub': ['gcp-pubsub'],
  kinesis: ['kinesis'],
  // Schemes no adapter serves, and garbage: a ConfigError naming the problem.
  unknown: ['http', 'mqtt', 'x-y', ''],
}

const queryName = fc.constantFrom(
  'heartbeat',
  'frameMax',
  'queueType',
  'provision',
  'prefix',
  'blockMs',
  'ssl',
  'saslMechanism',
  'partitions',
  'connectionTimeoutMs',
  'endpoint',
  'maxMessageBytes',
  'ca',
  'cert',
  'key',
  'servername',
  'rejectUnauthorized',
  'topics',
  'tls',
  'pollMs',
  'unknownOption',
)
const queryValue = fc.oneof(
  fc.constantFrom(
    '',
    'true',
    'false',
    '0',
    '-1',
    '1',
    '99999999999',
    '1e3',
    'NaN',
    'quorum',
    'scram-sha-512',
    '/nonexistent/ca.pem',
    'eventbridge',
    'https://127.0.0.1:1',
  ),
  fc.string({ unit: 'binary', maxLength: 20 }),
)
// Mostly valid shapes, so that samples get past the checks to a connection attempt as often as not.
const port = fc.oneof({ weight: 6, arbitrary: fc.constant('1') }, { weight: 1, arbitrary: fc.constantFrom('', '0', '65536', '99999', '-5', 'abc', '1:2') })
const host = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('127.0.0.1', 'localhost') },
  { weight: 1, arbitrary: fc.constantFrom('[::1]', '127.0.0.1,127.0.0.1', '') },
)
const user = fc.oneof(fc.constantFrom('', 'guest', 'anymq-tls', '%zz', 'a%40b'), fc.string({ maxLength: 8 }).map(encodeURIComponent))
const password = fc.constantFrom(secret, encodeURIComponent(secret), `${secret}%zz`, '')
const optionValue = fc.oneof(
  fc.constantFrom(undefined, null, true, false, 0, -1, 1.5, 2 ** 40, Number.NaN, '', 'quorum', secret, '/nonexistent/ca.pem'),
  fc.constantFrom(
    {},
    [],
    { ca: '/nonexistent/ca.pem' },
    { ca: 42 },
    { cert: '-----BEGIN CERTIFICATE-----' },
    { mechanism: 'scram-sha-512', username: 'u', password: secret },
    { accessKeyId: 'AKIAFUZZ', secretAccessKey: secret, sessionToken: secret },
    { client_email: 'fuzz@x.iam.gserviceaccount.com', private_key: `-----BEGIN PRIVATE KEY-----\n${secret}\n-----END PRIVATE KEY-----\n` },
  ),
)
const optionName = fc.constantFrom(
  'tls',
  'ssl',
  'sasl',
  'queueType',
  'provision',
  'connectTimeoutMs',
  'connectionTimeoutMs',
  'password',
  'username',
  'prefix',
  'partitions',
  'endpoint',
  'region',
  'credentials',
  'keyFilename',
  'user',
  'pass',
  'token',
  'nonsense',
)

function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`connect() did not settle within ${ms} ms`)), ms)
    }),
  ])
}

describe('fuzzed connection URLs and options', () => {
  for (const [family, names] of Object.entries(schemes)) {
    it(`${family}: connect() resolves or rejects with an anymq error, never with the password`, async () => {
      let resolved = 0
      const codes = new Map<string, number>()
      const input = fc.record({
        scheme: fc.constantFrom(...names),
        user,
        password,
        host,
        port,
        path: fc.oneof({ weight: 4, arbitrary: fc.constant('') }, { weight: 1, arbitrary: fc.constantFrom('/', '/vhost', '/0', '/%2F', '/abc/def') }),
        // The secret only where secrets go: the URL's password, and password/token parameters.
        query: fc.array(fc.oneof(fc.tuple(queryName, queryValue), fc.constant(['password', secret]), fc.constant(['token', secret])), { maxLength: 2 }),
        broker: fc.option(fc.dictionary(optionName, optionValue, { maxKeys: 2 }), { nil: undefined, freq: 2 }),
      })
      await fc.assert(
        fc.asyncProperty(input, async (sample) => {
          const credentials = sample.user || sample.password ? `${sample.user}:${sample.password}@` : ''
          const query = sample.query.map(([name, value]) => `${name}=${encodeURIComponent(value)}`).join('&')
          const portPart = sample.port === '' ? ':1' : `:${sample.port}`
          const url = `${sample.scheme}://${credentials}${sample.host}${portPart}${sample.path}${query ? `?${query}` : ''}`
          try {
            const mq = await within(connect(url, sample.broker === undefined ? {} : { broker: sample.broker as Record<string, unknown> }), 20_000)
            resolved++
            await within(mq.close(), 10_000)
          } catch (error) {
            expect(AnymqError.isInstance(error), `${url}: ${String(error)}`).toBe(true)
            const code = (error as AnymqError).code
            codes.set(code, (codes.get(code) ?? 0) + 1)
            const text = everythingIn(error)
            for (const form of secretForms(secret)) expect(text.includes(form), `${url}: the password is in ${text}`).toBe(false)
          }
        }),
        { seed, numRuns: Math.max(1, Math.round((family === 'kafka' ? 30 : 120) * scale)), endOnFailure: true },
      )
      console.info(`fuzz urls ${family}: ${resolved} connected, refused: ${JSON.stringify(Object.fromEntries(codes))} (seed ${seed})`)
    })
  }
})
