import { inspect } from 'node:util'
import { describe, expect, it } from 'vitest'
import { adapter as memory } from '../../adapter-memory/src/index.js'
import { orderSchema } from '../../conformance/src/index.js'
import { type AnymqError, ConfigError, ConnectionError, connect, type Logger, RequestTimeoutError, ValidationError } from '../src/index.js'
import { registerSecret } from '../src/spi/index.js'

describe('connect', () => {
  it('rejects an unknown scheme with a ConfigError listing the known ones', async () => {
    const error = await connect('nosuch://x').catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).code).toBe('ERR_CONFIG')
    expect((error as Error).message).toMatch(/^\[anymq\] \[core\] url: unknown scheme 'nosuch:'; known schemes: memory:\/\/, amqp:\/\//)
  })

  it('imports the adapter package of a known scheme on demand', async () => {
    // Nothing in this test imports or registers @anymq/kafka; the workspace links it, so connect() finds
    // it by the scheme and the connection itself fails (nothing listens on port 1). One outcome only:
    // a missing package (ERR_ADAPTER_NOT_INSTALLED) would fail this test.
    // kafkajs runs on every Node; the default driver refuses Node < 22.22 with a ConfigError.
    const error = await connect('kafka://127.0.0.1:1?driver=kafkajs').catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConnectionError)
    expect((error as AnymqError).adapter).toBe('kafka')
  })

  it('hands a multi-host URL (a:1,b:2) to the adapter with the first host and every host listed', async () => {
    const seen: Array<{ url: string; hosts: readonly string[] | undefined }> = []
    const multi = {
      ...memory,
      schemes: ['multi'],
      connect: (url: URL, context: Parameters<typeof memory.connect>[1]) => {
        seen.push({ url: url.href, hosts: context.hosts })
        return memory.connect(new URL('memory://multi-host'), context)
      },
    }
    const mq = await connect('multi://user:s3cret@a:9092,b:9093/path?x=1', { adapter: multi })
    expect(seen).toEqual([{ url: 'multi://user:s3cret@a:9092/path?x=1', hosts: ['a:9092', 'b:9093'] }])
    expect(mq.url).toBe('multi://user:***@a:9092,b:9093/path?x=1')
    await mq.close()
    await connect('multi://a:1', { adapter: multi }).then((single) => single.close())
    expect(seen[1]?.hosts).toEqual(['a:1'])
    await expect(connect('multi://a:1,,b:2', { adapter: multi })).rejects.toBeInstanceOf(ConfigError)
  })

  it('rejects something that is not a URL, without echoing its password', async () => {
    const error = await connect('amqp://user:hunter2@host:notaport').catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as Error).message).not.toContain('hunter2')
  })

  it('refuses a URL whose password holds a raw / or @ with a ConfigError that shows no part of it', async () => {
    // Unparseable: the text after '/' ends up in the port.
    const broken = await connect('redis://scout:Abc/S3cr3tTail@127.0.0.1:6379').catch((caught: unknown) => caught)
    expect(broken).toBeInstanceOf(ConfigError)
    expect((broken as Error).message).toContain('"redis://***@127.0.0.1:6379" is not a URL')
    // Parseable, wrongly: user 'scout', password 'p', host 'ss%w', and the rest of the password as the path.
    const split = await connect('memory://scout:p@ss%w/rd:S3cr3t@127.0.0.1:6379', { adapter: memory }).catch((caught: unknown) => caught)
    expect(split).toBeInstanceOf(ConfigError)
    expect((split as Error).message).toContain('percent-encode them (encodeURIComponent)')
    for (const error of [broken, split]) {
      for (const part of ['Abc', 'S3cr3t', 'ss%w', 'rd:']) expect((error as Error).message).not.toContain(part)
    }
    // Percent-encoded, the same password is fine.
    const encoded = await connect(`memory://scout:${encodeURIComponent('p@ss%w/rd:S3cr3t')}@encoded-password`, { adapter: memory })
    await encoded.close()
  })

  it('refuses a dead-letter queue name that is not a valid name, as it does a queue name', async () => {
    const mq = await connect('memory://dead-letter-names', { adapter: memory })
    try {
      expect(() => mq.queue('orders', { deadLetter: 'bad name' })).toThrow(ConfigError)
      expect(() => mq.queue('orders', { deadLetter: 'bad name' })).toThrow(/deadLetter: 'bad name' is not a valid name: use 1 to 200 letters/)
      expect(() => mq.topic('events', { deadLetter: 'x/y' } as never)).toThrow(ConfigError)
      mq.queue('orders', { deadLetter: 'orders.failed' })
      mq.queue('orders-no-dlq', { deadLetter: false })
    } finally {
      await mq.close()
    }
  })

  it('rejects unknown connect options and unknown URL parameters, every problem at once', async () => {
    await expect(connect('memory://', { adapter: memory, retries: 3 } as never)).rejects.toThrow(
      /connect options.retries: unknown option; allowed: adapter, logger, broker/,
    )
    const error = await connect('memory://?maxMessageBytes=abc&colour=red', { adapter: memory }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).problems.map((problem) => problem.field)).toEqual(['url ?maxMessageBytes', 'url ?colour'])
    expect((error as Error).message).toContain('allowed: maxMessageBytes, topicRetention')
  })

  it('resolves memory:// without an explicit adapter', async () => {
    const mq = await connect()
    expect(mq.adapter).toBe('memory')
    expect(mq.url).toBe('memory://')
    await mq.close()
  })

  it('prints no password when the connection or its handles are logged (console.log, util.inspect at any depth)', async () => {
    const password = 'pr1nted-s3cret'
    // As a broker client does: the transport and each consumer keep the connection settings, password included.
    const keeping = {
      ...memory,
      schemes: ['keeping'],
      connect: async (url: URL, context: Parameters<typeof memory.connect>[1]) => {
        const transport = await memory.connect(new URL('memory://inspect-test'), context)
        const consume = transport.consume.bind(transport)
        return Object.assign(transport, {
          settings: { url: url.href, password: url.password },
          consume: async (...args: Parameters<typeof consume>) => Object.assign(await consume(...args), { settings: { password: url.password } }),
        })
      },
    }
    const mq = await connect(`keeping://user:${password}@broker:5672/vhost`, { adapter: keeping })
    try {
      const queue = mq.queue<string>('inspected')
      const consumer = queue.consume(() => {})
      await consumer.ready
      const requester = mq.requester('inspected-rpc')
      for (const printed of [mq, queue, consumer, requester, mq.topic('inspected-topic'), queue.deadLetters()]) {
        const text = inspect(printed, { depth: Number.POSITIVE_INFINITY, showHidden: true })
        expect(text).not.toContain(password)
      }
      // Still there for what needs it: the URL the user reads, redacted.
      expect(inspect(mq)).toContain('keeping://user:***@broker:5672/vhost')
      await consumer.close()
    } finally {
      await mq.close()
    }
  })

  it('prints no token carried as the URL user name (nats://<token>@host) once the adapter registered it as a secret', async () => {
    const token = 't0ken-in-user-name'
    const tokenAsUser = {
      ...memory,
      schemes: ['tokenish'],
      connect: async (url: URL, context: Parameters<typeof memory.connect>[1]) => {
        registerSecret(decodeURIComponent(url.username))
        return memory.connect(new URL('memory://token-test'), context)
      },
    }
    const mq = await connect(`tokenish://${token}@broker:4222`, { adapter: tokenAsUser })
    try {
      expect(mq.url).toBe('tokenish://***@broker:4222')
      expect(inspect(mq, { depth: Number.POSITIVE_INFINITY, showHidden: true })).not.toContain(token)
    } finally {
      await mq.close()
    }
  })

  it('redacts the password in the URL it reports', async () => {
    const mq = await connect('memory://user:s3cret-pass@redaction-test', { adapter: memory })
    expect(mq.url).toBe('memory://user:***@redaction-test')
    await mq.close()
  })
})

describe('typed errors at the call', () => {
  it('refuses a payload failing its schema with ValidationError naming the fields', async () => {
    const mq = await connect('memory://typed-errors', { adapter: memory })
    const queue = mq.queue('orders', { schema: orderSchema })
    const error = await queue.send({ orderId: 1 } as never).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ValidationError)
    expect((error as Error).message).toBe(
      "[anymq] [memory] message for queue 'orders' failed its schema: orderId: expected a string; amount: expected a number",
    )
    await mq.close()
  })

  it('rejects a request nobody answers with RequestTimeoutError after timeoutMs', async () => {
    const mq = await connect('memory://typed-errors', { adapter: memory })
    const started = Date.now()
    const error = await mq
      .requester('nobody-home')
      .request({}, { timeoutMs: 100 })
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(RequestTimeoutError)
    expect((error as RequestTimeoutError).isRetryable).toBe(true)
    expect(Date.now() - started).toBeGreaterThanOrEqual(95)
    await mq.close()
  })

  it('writes no secret into log lines', async () => {
    const lines: string[] = []
    const capture = (line: string, context?: Record<string, unknown>) => lines.push(line + JSON.stringify(context ?? {}))
    const logger: Logger = { debug: capture, info: capture, warn: capture, error: capture }
    const mq = await connect('memory://user:pa55word-xyz@logs', { adapter: memory, logger })
    const queue = mq.queue<string>('no-dlq', { retry: false, deadLetter: false })
    await queue.consume(() => {
      throw new Error('handler saw amqp://admin:pa55word-xyz@rabbit and password=pa55word-xyz')
    }).ready
    await queue.send('x')
    await new Promise((resolve) => setTimeout(resolve, 20))
    await mq.close()
    expect(lines.length).toBeGreaterThan(0)
    expect(lines.join('\n')).not.toContain('pa55word-xyz')
  })
})
