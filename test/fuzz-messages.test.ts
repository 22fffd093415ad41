import { type Anymq, AnymqError, connect } from '@anymq/core'
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'

// Property-based, seeded and bounded: random bodies (binary, invalid UTF-8, empty, over the size
// limit), header names and values (unicode, control characters, reserved prefixes, very long) and
// keys, against memory:// and every broker whose URL is set. A send either succeeds and the message
// comes back byte-exact, or it fails with a typed error raised before anything is sent; nothing
// crashes (vitest fails a run on an unhandled rejection) and nothing hangs.
const seed = Number(process.env.ANYMQ_FUZZ_SEED ?? 16_2026)
const scale = Number(process.env.ANYMQ_FUZZ_SCALE ?? 1)

const targets = [
  { name: 'memory', url: 'memory://', runs: 300 },
  { name: 'rabbitmq', url: process.env.ANYMQ_RABBITMQ_URL, runs: 80 },
  { name: 'kafka', url: process.env.ANYMQ_KAFKA_URL, runs: 60 },
  { name: 'redis', url: process.env.ANYMQ_REDIS_URL, runs: 80 },
  // The Redis adapter's second client library (the default is node-redis).
  {
    name: 'redis-ioredis',
    url: process.env.ANYMQ_REDIS_URL && `${process.env.ANYMQ_REDIS_URL}${process.env.ANYMQ_REDIS_URL.includes('?') ? '&' : '?'}driver=ioredis`,
    runs: 40,
  },
  { name: 'sqs', url: process.env.ANYMQ_SQS_URL, runs: 40 },
  { name: 'nats', url: process.env.ANYMQ_NATS_URL, runs: 60 },
  { name: 'gcp-pubsub', url: process.env.ANYMQ_PUBSUB_URL, runs: 40 },
  { name: 'kinesis', url: process.env.ANYMQ_KINESIS_URL, runs: 30 },
  // EventBridge serves topics only: published as events on the bus, delivered by a rule to the
  // subscription's SQS queue.
  {
    name: 'eventbridge',
    url: process.env.ANYMQ_SQS_URL && `${process.env.ANYMQ_SQS_URL}${process.env.ANYMQ_SQS_URL.includes('?') ? '&' : '?'}topics=eventbridge&waitTimeSeconds=1`,
    runs: 30,
    topic: true,
  },
]

/** Errors a send may raise for a message that is wrong in itself: nothing reached the broker. */
const refusedBeforeSending = new Set(['ERR_CONFIG', 'ERR_MESSAGE_TOO_LARGE', 'ERR_SERIALIZATION', 'ERR_VALIDATION'])

const text = (maxLength: number) =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength }),
    fc.string({ unit: fc.constantFrom('\u0000', '\n', '\r', '\t', '\u007f', '\u2028', 'é', '😀', 'a', ' ', ':', '%'), maxLength }),
    fc.string({ unit: 'grapheme', maxLength }),
  )
const headerName = fc.oneof(
  { weight: 4, arbitrary: text(24).filter((name) => name.length > 0) },
  { weight: 1, arbitrary: fc.constantFrom('x-anymq-attempt', 'X-Anymq-Id', 'content-type', 'constructor', 'toString', 'x-death', 'id') },
  { weight: 1, arbitrary: fc.string({ minLength: 200, maxLength: 400 }) },
)
const body = fc.oneof(
  { weight: 8, arbitrary: fc.uint8Array({ maxLength: 512 }) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(0)) },
  // Over memory's, Redis' and Kafka's limits, under RabbitMQ's: refused up front, or round-tripped.
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }).map((fill) => new Uint8Array(1_048_600).fill(fill)) },
)
const sample = fc.record({
  body,
  headers: fc.dictionary(headerName, fc.oneof(text(64), fc.string({ minLength: 1000, maxLength: 5000 })), { maxKeys: 5 }),
  key: fc.option(text(40), { nil: undefined }),
})
type Sample = typeof sample extends fc.Arbitrary<infer T> ? T : never

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} hung for ${ms} ms`)), ms)
    }),
  ])
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex')

/** Sends to a queue, or publishes to a topic and consumes one named subscription of it. */
function endpointsOf(mq: Anymq, name: string, topic: boolean) {
  const options = { codec: 'raw', deadLetter: false } as const
  if (!topic) {
    const queue = mq.queue<Uint8Array>(name, options)
    return { send: queue.send.bind(queue), consume: queue.consume.bind(queue) }
  }
  const events = mq.topic<Uint8Array>(name, { codec: 'raw' })
  return {
    send: events.publish.bind(events),
    consume: (handler: Parameters<typeof events.subscribe>[1]) => events.subscribe('fuzz', handler, { deadLetter: false }),
  }
}

describe.each(targets)('fuzzed messages: $name', ({ name, url, runs, topic }) => {
  const connections: Anymq[] = []
  afterAll(async () => {
    await Promise.all(connections.map((mq) => mq.close()))
  })

  it.skipIf(!url)(
    `round-trips byte-exact or refuses with a typed error before sending (${name})${url ? '' : ` (ANYMQ_${name.toUpperCase().replace('EVENTBRIDGE', 'SQS')}_URL unset: run scripts/brokers.sh up ${name})`}`,
    async () => {
      const mq = await connect(url as string)
      connections.push(mq)
      const queue = endpointsOf(mq, `fuzz-${name}-${Date.now().toString(36)}`, topic === true)
      const received = new Map<string, { body: string; headers: Record<string, string>; key: string | undefined }>()
      const subscription = queue.consume((message) => {
        received.set(message.id, { body: hex(message.body), headers: { ...message.headers }, key: message.key })
      })
      await subscription.ready
      const sent = new Map<string, Sample>()
      const refused: string[] = []
      await fc.assert(
        fc.asyncProperty(sample, async (input) => {
          try {
            const { id } = await within(queue.send(input.body, { headers: input.headers, key: input.key }), 20_000, 'send')
            sent.set(id, input)
          } catch (error) {
            expect(AnymqError.isInstance(error), String(error)).toBe(true)
            expect(refusedBeforeSending, String(error)).toContain((error as AnymqError).code)
            refused.push((error as AnymqError).code)
          }
        }),
        { seed, numRuns: Math.max(1, Math.round(runs * scale)), endOnFailure: true },
      )
      const deadline = Date.now() + 60_000
      while (received.size < sent.size && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
      for (const [id, input] of sent) {
        const got = received.get(id)
        expect(got, `message ${id} was sent but never arrived`).toBeDefined()
        expect(got?.body, `body of ${id}`).toBe(hex(input.body))
        expect(got?.headers, `headers of ${id}`).toEqual(input.headers)
        expect(got?.key, `key of ${id}`).toBe(input.key)
      }
      // Nothing that was refused arrived.
      expect([...received.keys()].filter((id) => !sent.has(id))).toEqual([])
      console.info(`fuzz ${name}: ${sent.size + refused.length} cases, ${sent.size} round-tripped, ${refused.length} refused before sending (seed ${seed})`)
      await subscription.close()
    },
  )
})
