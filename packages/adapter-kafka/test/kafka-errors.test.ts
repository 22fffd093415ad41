import { connect as connectSocket, createServer } from 'node:net'
import { ConfigError, ConnectionError, connect, PublishError } from '@anymq/core'
import { AuthenticationError, MultipleErrors, NetworkError, ResponseError } from '@platformatic/kafka'
import { KafkaJSAggregateError, KafkaJSProtocolError } from 'kafkajs'
import { describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'
import { platformaticRunsOn } from '../src/kafka-adapter.js'
import { wrapError } from '../src/kafka-errors.js'

/** Node's own error for a TCP connect to a port nothing listens on (127.0.0.1:1). */
function refusedConnect(): Promise<Error> {
  return new Promise((resolve) => connectSocket({ host: '127.0.0.1', port: 1 }).on('error', resolve))
}

/** A socket error as Node builds it (`code`, `syscall`), for the codes a local socket cannot be made to produce. */
function socketError(code: string): Error {
  return Object.assign(new Error(`read ${code}`), { errno: -1, code, syscall: 'read' })
}

/**
 * What @platformatic/kafka 2.12.1 rejects with when no broker answers: the metadata retries, each
 * of them "no broker", each broker's connection failure a NetworkError around Node's error
 * (network/connection.js `#onConnectionError`, connection-pool.js, base.js).
 */
function brokerDown(cause: Error, attempts = 2): MultipleErrors {
  const attempt = () => new MultipleErrors('Cannot connect to any broker.', [new NetworkError('Connection to 127.0.0.1:9192 failed.', { cause })])
  return new MultipleErrors(`metadata failed ${attempts} times.`, Array.from({ length: attempts }, attempt))
}

describe('wrapError: a broker that is down or unreachable is worth trying again', () => {
  it("reads @platformatic/kafka's NetworkError in the middle of the chain: connect, start and send are retryable", async () => {
    const error = brokerDown(await refusedConnect())
    const connection = wrapError(error, "joining consumer group 'anymq:queue:orders'")
    expect(connection).toBeInstanceOf(ConnectionError)
    expect(connection.isRetryable).toBe(true)
    expect((connection as ConnectionError).reason).toBeUndefined()
    expect(connection.message).toMatch(/joining consumer group 'anymq:queue:orders': connect ECONNREFUSED 127\.0\.0\.1:1/)
    const publish = wrapError(error, 'publishing 1 message(s) to orders', 'publish')
    expect(publish).toBeInstanceOf(PublishError)
    expect(publish.isRetryable).toBe(true)
  })

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'EAI_AGAIN'])(
    'counts a bare %s socket error inside an aggregate as an outage',
    (code) => {
      const error = new MultipleErrors('Cannot connect to any broker.', [socketError(code)])
      expect(wrapError(error, 'creating topic(s) orders').isRetryable).toBe(true)
      expect(wrapError(error, 'publishing', 'publish').isRetryable).toBe(true)
    },
  )

  it('counts a socket error further down a cause chain as an outage', () => {
    const error = new Error('request failed', { cause: new Error('write failed', { cause: socketError('EPIPE') }) })
    expect(wrapError(error, 'publishing', 'publish').isRetryable).toBe(true)
  })
})

describe('wrapError: refusals stay final', () => {
  it('a SASL failure is an authentication refusal, though the library wraps it in a NetworkError', () => {
    // network/connection.js `#onSaslAuthenticate`: the broker's SASL_AUTHENTICATION_FAILED, then AuthenticationError, then NetworkError.
    const refused = new ResponseError(36, 2, { '': [58, 'Authentication failed: Invalid username or password'] }, {})
    const error = brokerDown(new AuthenticationError('SASL authentication failed.', { cause: refused }))
    const wrapped = wrapError(error, 'connecting to 127.0.0.1:9092') as ConnectionError
    expect(wrapped).toBeInstanceOf(ConnectionError)
    expect(wrapped.isRetryable).toBe(false)
    expect(wrapped.reason).toBe('authentication')
  })

  it('an untrusted TLS certificate is a TLS refusal, not an outage', () => {
    const tls = Object.assign(new Error('self-signed certificate'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })
    const wrapped = wrapError(brokerDown(tls), 'connecting to 127.0.0.1:9094') as ConnectionError
    expect(wrapped.isRetryable).toBe(false)
    expect(wrapped.reason).toBe('tls-untrusted-certificate')
  })

  it('a permanent protocol error the broker answered with is not retryable', () => {
    // CreateTopics (19) answered INVALID_REPLICATION_FACTOR (38): the broker is up and said no.
    const error = new MultipleErrors('Creating topics failed.', [
      new ResponseError(19, 7, { '/topics/0': [38, 'Replication factor: 3 larger than available brokers: 1.'] }, {}),
    ])
    const wrapped = wrapError(error, "creating topic(s) 'orders'")
    expect(wrapped).toBeInstanceOf(ConnectionError)
    expect(wrapped.isRetryable).toBe(false)
  })
})

describe("wrapError: a topic name Kafka refuses (INVALID_TOPIC_EXCEPTION) is the caller's configuration", () => {
  it('from @platformatic/kafka, with the broker’s words', () => {
    // As the broker answers a CreateTopics of `a_b` while `a.b` exists.
    const error = new MultipleErrors('Creating topics failed.', [
      new ResponseError(19, 7, { '/topics/0': [17, "Topic 'a_b' collides with existing topic: a.b"] }, {}),
    ])
    const wrapped = wrapError(error, "creating topic(s) 'a_b', 'a_b.retry'")
    expect(wrapped).toBeInstanceOf(ConfigError)
    expect(wrapped.isRetryable).toBe(false)
    expect((wrapped as ConfigError).problems[0]?.field).toBe("creating topic(s) 'a_b', 'a_b.retry'")
    expect(wrapped.message).toMatch(/Topic 'a_b' collides with existing topic: a\.b.*'a\.b' and 'a_b' cannot both exist/)
  })

  it('from kafkajs', () => {
    // kafkajs's admin.createTopics: an aggregate of KafkaJSCreateTopicError (a KafkaJSProtocolError) per topic.
    const refused = {
      type: 'INVALID_TOPIC_EXCEPTION',
      code: 17,
      retriable: false,
      message: 'The request attempted to perform an operation on an invalid topic',
    }
    const error = new KafkaJSAggregateError('Topic creation errors', [new KafkaJSProtocolError(refused as unknown as Error)])
    const wrapped = wrapError(error, "creating topic(s) 'a_b'")
    expect(wrapped).toBeInstanceOf(ConfigError)
    expect(wrapped.isRetryable).toBe(false)
  })
})

/** A local port nothing listens on: one the system just handed out and took back. */
async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

describe('a broker that is down, through connect()', () => {
  it.each(['platformatic', 'kafkajs'] as const)('rejects with a retryable ConnectionError on the %s driver', async (driver) => {
    if (driver === 'platformatic' && !platformaticRunsOn(process.versions.node)) return
    const port = await closedPort()
    const error = await connect(`kafka://127.0.0.1:${port}?driver=${driver}`, { adapter }).then(
      async (mq) => {
        await mq.close()
        return undefined
      },
      (caught: unknown) => caught,
    )
    expect(error).toBeInstanceOf(ConnectionError)
    expect((error as ConnectionError).isRetryable).toBe(true)
    expect((error as ConnectionError).message).toMatch(/ECONNREFUSED/)
  })
})
