import { abortable, throwIfAborted } from './abortable.js'
import { resolveAdapter } from './adapter-registry.js'
import { adminFor } from './admin-access.js'
import { type AsyncApiDocument, type AsyncApiInfo, buildAsyncApiDocument } from './asyncapi/asyncapi-document.js'
import type { Capabilities } from './capabilities.js'
import { type ConnectionEvent, ConnectionHealth, type HealthReport } from './connection-health.js'
import { ConfigError } from './errors.js'
import { consoleLogger, type Logger, redactingLogger } from './logger.js'
import { abortSignal, integer, type OptionShape, ofType, required, validateOptions } from './options-validation.js'
import { Queue, type QueueOptions } from './queue.js'
import { isRegisteredSecret, redactUrl, redactUserInfo, registerSecret } from './redact.js'
import { Requester, type RequestReplyOptions } from './requester.js'
import { Responder } from './responder.js'
import { Runtime } from './runtime.js'
import { type GatherTarget, ScatterGather } from './scatter-gather.js'
import type { ListedDestination } from './spi/admin.js'
import type { AsyncApiBindings } from './spi/asyncapi-bindings.js'
import type { AdapterFactory, Transport } from './spi/transport.js'
import { connectionTelemetry } from './telemetry/connection-telemetry.js'
import type { Telemetry } from './telemetry/telemetry.js'
import { Topic, type TopicOptions } from './topic.js'
import { TopicResponder } from './topic-responder.js'

export interface ConnectOptions {
  /** Use this adapter instead of resolving one from the URL scheme. */
  adapter?: AdapterFactory
  /** Where anymq logs; every line is redacted. Default: warnings and errors to stderr. */
  logger?: Logger
  /** Adapter-specific connection options (TLS, SASL, credentials…); see the adapter's README. */
  broker?: Record<string, unknown>
  /**
   * Aborting it while connecting rejects with `AbortedError` at once; a connection that opens after
   * that is closed again, so an aborted connect leaves nothing open.
   */
  signal?: AbortSignal
  /**
   * How often, in milliseconds, the `messaging.consumer.lag` gauge reads the depth of each queue and
   * subscription consumed on this connection (adapters with `admin.stats`, while a MeterProvider is
   * registered). Default 10 000; 0 turns the gauge off.
   */
  consumerLagIntervalMs?: number
}

const transports = new WeakMap<Anymq, Transport>()
const queueBrokerOptions = new WeakMap<Anymq, OptionShape>()

/**
 * A connection to one broker. Create queues, topics and request/reply endpoints from it; `close()`
 * drains every consumer and flushes every accepted publish before disconnecting.
 */
export class Anymq {
  /** The adapter's name: `memory`, `rabbitmq`, `kafka`, `aws`, `redis`. */
  readonly adapter: string
  /** What this broker can do; see {@link Capabilities}. */
  readonly capabilities: Capabilities
  /** The connection URL with its password and secrets replaced by `***`. */
  readonly url: string
  private readonly runtime: Runtime
  private readonly connectionHealth: ConnectionHealth
  private closing: Promise<void> | undefined
  private readonly asyncApiBindings: ((url: URL) => AsyncApiBindings) | undefined

  constructor(
    transport: Transport,
    factory: AdapterFactory,
    capabilities: Capabilities,
    logger: Logger,
    url: string,
    observability: { health?: ConnectionHealth; telemetry?: Telemetry } = {},
    /** The parsed URL and every host of it, for `asyncapi()`'s server. */
    private location?: { parsed: URL; hosts: readonly string[] },
  ) {
    this.adapter = factory.name
    this.capabilities = capabilities
    this.url = url
    // Kept without its password (or a user name that is a token): asyncapi() needs only the host and
    // path, and `console.log(mq)` shows it.
    const tokenAsUser = location !== undefined && location.parsed.username !== '' && isRegisteredSecret(location.parsed.username)
    if (location?.parsed.password || tokenAsUser) {
      const parsed = new URL(location.parsed)
      parsed.password = ''
      if (tokenAsUser) parsed.username = ''
      this.location = { parsed, hosts: location.hosts }
    }
    this.connectionHealth = observability.health ?? new ConnectionHealth()
    this.runtime = new Runtime(transport, factory.name, capabilities, logger, factory.queueBrokerOptions, observability.telemetry)
    this.runtime.replies.inOutage = () => this.connectionHealth.health().state === 'reconnecting'
    if (factory.cloudEvents !== undefined) this.runtime.cloudEventsHeaders = factory.cloudEvents
    this.asyncApiBindings = factory.asyncApi
    transports.set(this, transport)
    queueBrokerOptions.set(this, factory.queueBrokerOptions ?? {})
  }

  queue<T = unknown>(name: string, options?: QueueOptions<T>): Queue<T> {
    this.runtime.assertOpen()
    return new Queue<T>(this.runtime, name, options)
  }

  topic<T = unknown>(name: string, options?: TopicOptions<T>): Topic<T> {
    this.runtime.assertOpen()
    return new Topic<T>(this.runtime, name, options)
  }

  requester<Request = unknown, Response = unknown>(name: string, options?: RequestReplyOptions<Request, Response>): Requester<Request, Response> {
    this.runtime.assertOpen()
    return new Requester<Request, Response>(this.runtime, name, options)
  }

  responder<Request = unknown, Response = unknown>(name: string, options?: RequestReplyOptions<Request, Response>): Responder<Request, Response> {
    this.runtime.assertOpen()
    return new Responder<Request, Response>(this.runtime, name, options)
  }

  /**
   * Scatter-gather to the responders of a list of queues or to the topic responders of a topic; see
   * {@link ScatterGather}. Its inbox closes with the connection.
   */
  scatterGather<Request = unknown, Response = unknown>(
    target: GatherTarget,
    options?: RequestReplyOptions<Request, Response>,
  ): ScatterGather<Request, Response> {
    this.runtime.assertOpen()
    return new ScatterGather<Request, Response>(this.runtime, target, options)
  }

  /** A responder to scatter-gather requests published to `topic`, known to gatherers as `name`; see {@link TopicResponder}. */
  topicResponder<Request = unknown, Response = unknown>(
    topic: string,
    name: string,
    options?: RequestReplyOptions<Request, Response>,
  ): TopicResponder<Request, Response> {
    this.runtime.assertOpen()
    return new TopicResponder<Request, Response>(this.runtime, topic, name, options)
  }

  /**
   * The queues, topics and subscriptions anymq made on this broker whose names start with `prefix`
   * (all of them without one), sorted by kind and name; anymq's private structures (retry queues,
   * reply inboxes) are left out. Rejects with `UnsupportedFeatureError` when the adapter does not declare `admin.list`.
   */
  async list(options: { prefix?: string } = {}): Promise<ListedDestination[]> {
    validateOptions(options, { prefix: ofType('string') }, 'list options', this.adapter)
    const found = await adminFor(this.runtime, 'list', 'list()').list(options.prefix ?? '')
    const order = { queue: 0, topic: 1, subscription: 2 }
    return found.sort((a, b) => order[a.kind] - order[b.kind] || (a.topic ?? '').localeCompare(b.topic ?? '') || a.name.localeCompare(b.name))
  }

  /**
   * An AsyncAPI 3.0 document of what this application declared on this connection so far: the broker
   * as its server (the adapter's protocol and bindings, no credentials), a channel per queue, topic and
   * request/reply endpoint with the payload's JSON Schema where the schema library offers one (Standard
   * JSON Schema, e.g. zod 4), and the operations: send, receive from consumed queues and each
   * subscription, request/reply with `reply`. Declare the handles (and start the consumers) first.
   */
  asyncapi(info: AsyncApiInfo): AsyncApiDocument {
    validateOptions(
      info,
      { title: required(ofType('string')), version: required(ofType('string')), description: ofType('string') },
      'asyncapi info',
      this.adapter,
    )
    const url = new URL(this.location?.parsed ?? this.url)
    url.username = ''
    url.password = ''
    url.search = ''
    url.hash = ''
    return buildAsyncApiDocument({
      info,
      url,
      hosts: this.location?.hosts ?? [],
      adapter: this.adapter,
      bindings: this.asyncApiBindings?.(url),
      channels: this.runtime.declarations.list(),
    })
  }

  get closed(): boolean {
    return this.runtime.closed
  }

  /**
   * Where the connection stands, for a readiness probe: `ready` only while `connected`; how many
   * times the adapter had to reconnect and the last cause (secrets redacted). Never throws, also
   * after `close()` (then `closed`).
   */
  health(): HealthReport {
    return this.connectionHealth.health()
  }

  /**
   * Calls `listener` on every connection state change (`connected`, `reconnecting` with its cause,
   * `closed`), and on every further reconnect attempt. Returns the function that removes it. A
   * listener that throws is ignored.
   */
  onConnectionState(listener: (event: ConnectionEvent) => void): () => void {
    return this.connectionHealth.listen(listener)
  }

  /**
   * Closes every subscription (running handlers finish and settle), every requester, waits for every
   * accepted publish, then disconnects. Idempotent: later calls return the same promise.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.runtime.closeAll()
        await this.runtime.transport.close()
      } finally {
        this.connectionHealth.report({ state: 'closed' })
      }
    })()
    return this.closing
  }
}

/** The adapter-level transport behind a connection: for conformance hooks and adapter tests, not for applications. */
export function transportOf(mq: Anymq): Transport {
  const transport = transports.get(mq)
  if (!transport) throw new ConfigError('not an anymq connection')
  return transport
}

/**
 * The per-queue `broker` options the adapter of a connection declares (`AdapterFactory.queueBrokerOptions`),
 * for tools that build queue specs without `mq.queue()` (the outbox); `undefined` for anything but a connection.
 */
export function queueBrokerOptionsOf(mq: unknown): OptionShape | undefined {
  return mq instanceof Anymq ? queueBrokerOptions.get(mq) : undefined
}

/**
 * Connects to the broker named by the URL: `memory://`, `amqp://`, `kafka://`, `sqs://`, `redis://`.
 * Resolves once the broker answered. Rejects with `ConfigError` (bad URL or option, missing adapter
 * package) or `ConnectionError`; neither ever contains the password.
 */
export async function connect(url: string | URL = 'memory://', options: ConnectOptions = {}): Promise<Anymq> {
  validateOptions(
    options,
    {
      adapter: ofType('object', 'an adapter factory'),
      logger: ofType('object', 'a logger'),
      broker: ofType('object'),
      signal: abortSignal(),
      consumerLagIntervalMs: integer(0),
    },
    'connect options',
  )
  const { signal } = options
  throwIfAborted(signal, 'connect', 'core')
  let parsed: URL
  let hosts: string[]
  try {
    ;({ parsed, hosts } = parseConnectionUrl(String(url)))
  } catch {
    throw new ConfigError([
      {
        field: 'url',
        message: `${JSON.stringify(redactUrl(String(url)))} is not a URL; expected e.g. memory://, amqp://user:pass@host:5672, kafka://host:9092, sqs://us-east-1, redis://host:6379`,
      },
    ])
  }
  // A raw '/' in a password makes the rest of it (and the host) the path: refused before anything echoes that path.
  if (parsed.pathname.includes('@')) {
    throw new ConfigError([
      {
        field: 'url',
        message: `${JSON.stringify(redactUserInfo(String(url)))}: its user name or password holds a '/', '?', '#' or '@' as it is, which ends it early; percent-encode them (encodeURIComponent)`,
      },
    ])
  }
  registerSecret(parsed.password)
  for (const [name, value] of parsed.searchParams) if (/secret|token|password|key/i.test(name)) registerSecret(value)
  const scheme = parsed.protocol.replace(/:$/, '')
  const factory = options.adapter ?? (await resolveAdapter(scheme))
  if (!factory.schemes.includes(scheme)) {
    throw new ConfigError(
      [
        {
          field: 'url',
          message: `the ${factory.name} adapter serves ${factory.schemes.map((name) => `${name}://`).join(', ')}, not ${scheme}://`,
        },
      ],
      { adapter: factory.name },
    )
  }
  const logger = redactingLogger(options.logger ?? consoleLogger, factory.name)
  const health = new ConnectionHealth()
  const telemetry = await connectionTelemetry(factory.messagingSystem ?? factory.name, { lagIntervalMs: options.consumerLagIntervalMs ?? 10_000 })
  const connecting = factory.connect(parsed, {
    logger,
    hosts,
    options: options.broker ?? {},
    capabilities: factory.capabilities,
    reportConnectionState: health.report,
    signal,
  })
  let transport: Transport
  try {
    transport = await abortable(connecting, signal, `connect to ${redactUrl(parsed)}`, factory.name)
  } catch (error) {
    if (signal?.aborted) connecting.then((late) => late.close()).catch(() => {})
    throw error
  }
  const capabilities = transport.capabilities ?? factory.capabilities
  const shown = hosts.length > 1 ? redactUrl(parsed).replace(parsed.host, hosts.join(',')) : redactUrl(parsed)
  return new Anymq(transport, factory, capabilities, logger, shown, { health, telemetry }, { parsed, hosts })
}

const multiHost = /^([a-z][a-z0-9+.-]*:\/\/)([^@/?#]*@)?([^@/?#]*,[^@/?#]*)([/?#].*)?$/i

/**
 * Parses a connection URL, also in the multi-host form `scheme://[user:pass@]a:1,b:2[/path][?query]`
 * (Kafka bootstrap lists, clusters): the URL gets the first host, `hosts` lists every one.
 */
function parseConnectionUrl(text: string): { parsed: URL; hosts: string[] } {
  const match = multiHost.exec(text)
  if (!match) {
    const parsed = new URL(text)
    return { parsed, hosts: parsed.host ? [parsed.host] : [] }
  }
  const [, scheme = '', userinfo = '', authority = '', rest = ''] = match
  const hosts = authority.split(',')
  if (hosts.some((host) => host === '')) throw new TypeError('empty host in a multi-host URL')
  const parsed = new URL(`${scheme}${userinfo}${hosts[0]}${rest}`)
  for (const host of hosts) new URL(`${scheme}${host}`)
  return { parsed, hosts }
}
