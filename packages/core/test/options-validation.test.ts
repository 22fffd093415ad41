import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adapter as memory } from '../../adapter-memory/src/index.js'
import { type Anymq, ConfigError, connect, UnsupportedFeatureError } from '../src/index.js'
import { type AdapterFactory, integer, objectOf, ofType, oneOf, parseUrlOptions, required, validateOptions, variant } from '../src/spi/index.js'

/** The memory broker under another name, declaring per-queue broker options with a union of its own, and no cross-instance order. */
const capabilities = { ...memory.capabilities, ordering: 'none' as const }
const fake: AdapterFactory = {
  ...memory,
  name: 'fake',
  capabilities,
  async connect(url, context) {
    const transport = await memory.connect(url, context)
    Object.defineProperty(transport, 'capabilities', { value: capabilities })
    return transport
  },
  queueBrokerOptions: {
    queueType: oneOf('classic', 'quorum'),
    storage: variant('kind', { disk: { path: required(ofType('string')), syncEveryMs: integer(1) }, memory: { maxBytes: integer(1) } }),
    credentials: objectOf({ password: ofType('string') }),
  },
}

const codec = { contentType: 'text/plain', encode: (body: unknown) => new TextEncoder().encode(String(body)), decode: () => 'x' }

/** Each union with a wrong discriminant, a missing field, an unknown field and a wrong type, where the union has one. */
const cases: Array<{ union: string; shape: string; call: (mq: Anymq) => unknown; problems: string[] }> = [
  // retry: false | { maxAttempts, backoff }
  {
    union: 'retry',
    shape: 'wrong discriminant',
    call: (mq) => mq.queue('q', { retry: true as never }),
    problems: ["queue('q') options.retry: expected false or a retry policy { maxAttempts, backoff }, got true"],
  },
  {
    union: 'retry',
    shape: 'unknown field',
    call: (mq) => mq.queue('q', { retry: { maxAttempts: 3, retries: 2 } as never }),
    problems: ["queue('q') options.retry.retries: unknown option; allowed: maxAttempts, backoff"],
  },
  {
    union: 'retry',
    shape: 'wrong type',
    call: (mq) => mq.queue('q', { retry: { maxAttempts: '3' as never } }),
    problems: ["queue('q') options.retry.maxAttempts: expected an integer from 1 to 1000, got '3'"],
  },
  // backoff: { type: 'exponential', … } | { type: 'fixed', delayMs, … }
  {
    union: 'backoff',
    shape: 'unknown and missing fields (issue 24)',
    call: (mq) => mq.queue('q', { retry: { maxAttempts: 5, backoff: { type: 'fixed', initialMs: 4000, maxMs: 4000 } as never } }),
    problems: [
      "queue('q') options.retry.backoff.initialMs: unknown for type 'fixed' (allowed: type, delayMs, jitter)",
      "queue('q') options.retry.backoff.maxMs: unknown for type 'fixed' (allowed: type, delayMs, jitter)",
      "queue('q') options.retry.backoff.delayMs: required for type 'fixed'",
    ],
  },
  {
    union: 'backoff',
    shape: 'wrong discriminant',
    call: (mq) => mq.queue('q', { retry: { backoff: { type: 'linear', delayMs: 5 } as never } }),
    problems: ["queue('q') options.retry.backoff.type: expected 'exponential' or 'fixed', got 'linear'"],
  },
  {
    union: 'backoff',
    shape: 'missing discriminant',
    call: (mq) => mq.topic('t', { retry: { backoff: { initialMs: 5 } as never } }),
    problems: ["topic('t') options.retry.backoff.type: required ('exponential' or 'fixed')"],
  },
  {
    union: 'backoff',
    shape: 'wrong type',
    call: (mq) => mq.queue('q', { retry: { backoff: { type: 'exponential', jitter: 'yes' as never, multiplier: 0 } } }),
    problems: [
      "queue('q') options.retry.backoff.jitter: expected a boolean, got a string",
      "queue('q') options.retry.backoff.multiplier: expected an integer from 1 to 100, got 0",
    ],
  },
  {
    union: 'backoff',
    shape: 'not an object',
    call: (mq) => mq.queue('q', { retry: { backoff: 'fixed' as never } }),
    problems: ["queue('q') options.retry.backoff: expected an object with type 'exponential' or 'fixed', got 'fixed'"],
  },
  // codec: 'json' | 'text' | 'raw' | { contentType, encode, decode }
  {
    union: 'codec',
    shape: 'wrong discriminant',
    call: (mq) => mq.queue('q', { codec: 'xml' as never }),
    problems: ["queue('q') options.codec: expected 'json', 'text', 'raw' or a codec { contentType, encode, decode }, got 'xml'"],
  },
  {
    union: 'codec',
    shape: 'missing field',
    call: (mq) => mq.requester('r', { codec: { contentType: 'x', encode: codec.encode } as never }),
    problems: ["requester('r') options.codec.decode: required in a codec { contentType, encode, decode }"],
  },
  {
    union: 'codec',
    shape: 'wrong type',
    call: (mq) => mq.responder('r', { codec: { ...codec, contentType: 7 } as never }),
    problems: ["responder('r') options.codec.contentType: expected a string, got a number"],
  },
  {
    union: 'codec',
    shape: 'wrong type of an optional member',
    call: (mq) => mq.queue('q', { codec: { ...codec, freshBytes: 'yes' } as never }),
    problems: ["queue('q') options.codec.freshBytes: expected a boolean, got a string"],
  },
  // ack mode: 'auto' | 'manual'
  {
    union: 'ack mode',
    shape: 'wrong discriminant',
    call: (mq) => mq.queue('q').consume(() => {}, { ack: 'explicit' as never }),
    problems: ["queue('q').consume options.ack: expected one of 'auto', 'manual', got 'explicit'"],
  },
  {
    union: 'ack mode',
    shape: 'wrong type',
    call: (mq) => mq.queue('q').consume(() => {}, { ack: true as never }),
    problems: ["queue('q').consume options.ack: expected one of 'auto', 'manual', got true"],
  },
  // start position: 'latest' | 'earliest'
  {
    union: 'start position',
    shape: 'wrong discriminant',
    call: (mq) => mq.topic('t').subscribe('s', () => {}, { startFrom: 'oldest' as never }),
    problems: ["topic('t').subscribe('s') options.startFrom: expected one of 'latest', 'earliest', got 'oldest'"],
  },
  {
    union: 'start position',
    shape: 'wrong type',
    call: (mq) => mq.topic('t').subscribe('s', () => {}, { startFrom: 0 as never }),
    problems: ["topic('t').subscribe('s') options.startFrom: expected one of 'latest', 'earliest', got 0"],
  },
  // dead letter: false | a queue name
  {
    union: 'dead letter',
    shape: 'wrong discriminant',
    call: (mq) => mq.queue('q', { deadLetter: true as never }),
    problems: ["queue('q') options.deadLetter: expected false or a queue name, got true"],
  },
  {
    union: 'dead letter',
    shape: 'wrong type',
    call: (mq) => mq.topic('t').subscribe('s', () => {}, { deadLetter: 5 as never }),
    problems: ["topic('t').subscribe('s') options.deadLetter: expected false or a queue name, got 5"],
  },
  // broker options: declared by the adapter (here: queueType, storage, credentials)
  {
    union: 'broker options',
    shape: 'unknown field',
    call: (mq) => mq.queue('q', { broker: { queueTyp: 'quorum' } }),
    problems: ["queue('q') options.broker.queueTyp: unknown option; allowed: queueType, storage, credentials"],
  },
  {
    union: 'broker options',
    shape: 'wrong discriminant',
    call: (mq) => mq.topic('t', { broker: { queueType: 'stream' } }),
    problems: ["topic('t') options.broker.queueType: expected one of 'classic', 'quorum', got 'stream'"],
  },
  {
    union: 'broker options',
    shape: 'missing field',
    call: (mq) => mq.topic('t').subscribe('s', () => {}, { broker: { storage: { kind: 'disk' } } }),
    problems: ["topic('t').subscribe('s') options.broker.storage.path: required for kind 'disk'"],
  },
  {
    union: 'broker options',
    shape: 'unknown field of one alternative',
    call: (mq) => mq.requester('r', { broker: { storage: { kind: 'memory', path: '/tmp' } } }),
    problems: ["requester('r') options.broker.storage.path: unknown for kind 'memory' (allowed: kind, maxBytes)"],
  },
  {
    union: 'broker options',
    shape: 'wrong type',
    call: (mq) => mq.responder('r', { broker: { storage: { kind: 'disk', path: 1, syncEveryMs: 0.5 } } }),
    problems: [
      "responder('r') options.broker.storage.path: expected a string, got a number",
      "responder('r') options.broker.storage.syncEveryMs: expected an integer from 1 to ∞, got 0.5",
    ],
  },
  {
    union: 'broker options',
    shape: 'unknown field named like an inherited member',
    call: (mq) => mq.queue('q', { broker: { toString: 'quorum', constructor: 1 } }),
    problems: [
      "queue('q') options.broker.toString: unknown option; allowed: queueType, storage, credentials",
      "queue('q') options.broker.constructor: unknown option; allowed: queueType, storage, credentials",
    ],
  },
  {
    union: 'broker options',
    shape: 'not an object',
    call: (mq) => mq.queue('q', { broker: 'quorum' as never }),
    problems: ["queue('q') options.broker: expected an object, got 'quorum'"],
  },
]

describe('options are checked at the call, each problem naming the deepest wrong field', () => {
  let mq: Anymq
  beforeAll(async () => {
    mq = await connect('memory://options-validation', { adapter: fake })
  })
  afterAll(() => mq.close())

  it.each(cases)('$union: $shape', ({ call, problems }) => {
    let error: unknown
    try {
      call(mq)
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(ConfigError)
    const listed = (error as ConfigError).problems.map((problem) => `${problem.field}: ${problem.message}`)
    expect(listed).toEqual(problems)
    expect((error as Error).message).toBe(`[anymq] [fake] ${problems.join('; ')}`)
  })

  it('accepts every alternative of every union when it is right', () => {
    mq.queue('q', { retry: false, codec: 'text', deadLetter: false, broker: { queueType: 'quorum', storage: { kind: 'disk', path: '/var' } } })
    mq.queue('q', { retry: { maxAttempts: 2, backoff: { type: 'fixed', delayMs: 10, jitter: false } }, codec, deadLetter: 'q.dead' })
    mq.topic('t', { retry: { backoff: { type: 'exponential', initialMs: 1, maxMs: 2, multiplier: 3 } }, broker: { storage: { kind: 'memory' } } })
    // A codec is an interface: a class instance with its methods on the prototype and members of its own passes.
    class Upper {
      readonly contentType = 'text/plain'
      readonly label = 'upper'
      encode(body: string) {
        return new TextEncoder().encode(body.toUpperCase())
      }
      decode(bytes: Uint8Array) {
        return new TextDecoder().decode(bytes)
      }
    }
    mq.queue('q', { codec: new Upper() })
    // arktype schemas are functions carrying `~standard`.
    const arktypeLike = Object.assign(() => true, { '~standard': { version: 1, vendor: 'arktype', validate: (value: unknown) => ({ value }) } })
    mq.queue('q', { schema: arktypeLike as never })
    expect(() => mq.queue('q', { schema: { parse: () => 1 } as never })).toThrow(
      "queue('q') options.schema: expected a Standard Schema (zod, valibot, arktype…), got an object without '~standard'",
    )
  })

  it('reports every problem of one call at once, across unions and levels', () => {
    let error: unknown
    try {
      mq.queue('q', {
        retry: { maxAttempts: 0, backoff: { type: 'fixed', initialMs: 1 } as never },
        codec: 'xml' as never,
        ordered: 'yes' as never,
        broker: { queueType: 'stream', colour: 'red' },
        colour: 'blue',
      } as never)
    } catch (caught) {
      error = caught
    }
    expect((error as ConfigError).problems.map((problem) => problem.field)).toEqual([
      "queue('q') options.retry.maxAttempts",
      "queue('q') options.retry.backoff.initialMs",
      "queue('q') options.retry.backoff.delayMs",
      "queue('q') options.codec",
      "queue('q') options.ordered",
      "queue('q') options.broker.queueType",
      "queue('q') options.broker.colour",
      "queue('q') options.colour",
    ])
  })

  it('keeps values that could be secrets out of the message', () => {
    const secret = 'hunter2-is-my-password'
    const token = 'ghp_0123456789abcdefghijklmnopqrstuvwxyzABCD'
    let error: unknown
    try {
      mq.queue('q', { broker: { credentials: { password: { value: secret } } }, retry: { maxAttempts: token as never } })
    } catch (caught) {
      error = caught
    }
    expect((error as ConfigError).problems.map((problem) => `${problem.field}: ${problem.message}`)).toEqual([
      "queue('q') options.broker.credentials.password: expected a string, got an object",
      "queue('q') options.retry.maxAttempts: expected an integer from 1 to 1000, got a string",
    ])
    expect((error as Error).message).not.toContain(secret)
    expect((error as Error).message).not.toContain(token)
    // Under a credential-like name even a short string or a number is described by its kind only (a long string anywhere).
    const problems: import('../src/errors.js').ConfigProblem[] = []
    objectOf({ token: oneOf('none'), tls: objectOf({ passphrase: integer(0, 1) }) })({ token: 'abc123', tls: { passphrase: 123456 } }, 'broker', problems)
    expect(problems.map((problem) => problem.message)).toEqual(["expected 'none', got a string", 'expected an integer from 0 to 1, got a number'])
    // Object values are never serialised into the message, whatever their field.
    expect(() => validateOptions({ retry: 'x' }, { retry: objectOf({}) }, 'o')).toThrow("o.retry: expected an object, got 'x'")
    expect(() => validateOptions({ retry: [secret] }, { retry: objectOf({}) }, 'o')).toThrow('o.retry: expected an object, got an array')
  })

  it('checks URL query options the same way, and never shows the value of a credential-like parameter', () => {
    const spec = {
      mode: { type: 'enum', values: ['a', 'b'] },
      apiToken: { type: 'enum', values: ['x'] },
      retries: { type: 'integer', min: 0, max: 3 },
    } as const
    let error: unknown
    try {
      parseUrlOptions(new URL('memory://?mode=c&apiToken=s3cr3t-value&retries=9&colour=red'), spec, 'fake')
    } catch (caught) {
      error = caught
    }
    expect((error as ConfigError).problems.map((problem) => `${problem.field}: ${problem.message}`)).toEqual([
      "url ?mode: 'c' is not one of a, b",
      'url ?apiToken: a string is not one of x',
      "url ?retries: '9' is not an integer in 0..3",
      'url ?colour: unknown parameter; allowed: mode, apiToken, retries',
    ])
    expect((error as Error).message).not.toContain('s3cr3t-value')
  })

  it('refuses ordered: true at the call when the broker cannot keep per-key order across instances', async () => {
    const error = (() => {
      try {
        mq.queue('q', { ordered: true })
      } catch (caught) {
        return caught
      }
    })()
    expect(error).toBeInstanceOf(UnsupportedFeatureError)
    expect((error as Error).message).toContain(
      "ordered: true (per-key order across consumer instances) is not supported by the fake adapter; its ordering is 'none'",
    )
    mq.queue('q', { ordered: false })
    const keyed = await connect('memory://options-validation-keyed', { adapter: memory })
    try {
      keyed.queue('q', { ordered: true })
    } finally {
      await keyed.close()
    }
  })

  it('takes no broker options on an adapter that declares none', async () => {
    const plain = await connect('memory://options-validation-plain', { adapter: { ...memory, queueBrokerOptions: undefined } })
    try {
      expect(() => plain.queue('q', { broker: { queueType: 'quorum' } })).toThrow("queue('q') options.broker.queueType: unknown option; allowed: (none)")
      plain.queue('q', { broker: {} })
    } finally {
      await plain.close()
    }
    await expect(connect('memory://', { adapter: memory, broker: { tls: {} } })).rejects.toThrow('broker.tls: unknown option; allowed: (none)')
  })
})
