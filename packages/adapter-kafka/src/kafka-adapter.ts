import {
  AbortedError,
  type AdapterFactory,
  abortable,
  type Capabilities,
  ConfigError,
  ConnectionError,
  ConnectionStateTracker,
  type Logger,
} from '@anymq/core/spi'
import { kafkaAsyncApi } from './kafka-asyncapi.js'
import { type KafkaSettings, queueBrokerOptions, resolveSettings } from './kafka-config.js'
import type { KafkaDriver } from './kafka-driver.js'
import { wrapError } from './kafka-errors.js'
import { KafkaTransport } from './kafka-transport.js'

/**
 * What Kafka does, natively or faithfully emulated. Delay: redelivery topics read back by the same
 * group and held until due. Filters: evaluated by the consumer, non-matching records are skipped and
 * committed. No per-message lease (a consumer owns whole partitions), no priority, no broker-side
 * deduplication of user ids (the idempotent producer only removes its own retries).
 */
export const capabilities: Capabilities = {
  delay: { maxMs: 3_600_000 },
  ordering: 'key',
  priority: false,
  expiry: 'emulated',
  dedupe: false,
  persistence: true,
  replay: true,
  nativeDeadLetter: false,
  maxMessageBytes: 1_000_000,
  leaseExpiry: false,
  leaseExtension: false,
  topicFilters: { subject: true, headers: true },
  // A log cannot remove one record from the middle of a partition: see kafka-admin.ts.
  admin: { stats: true, purge: true, delete: true, list: true, deadLetterById: false },
}

/**
 * `kafka://[user:password@]host:9092[,host2:9092][?clientId=…&ssl=true&saslMechanism=scram-sha-512…]`;
 * TLS, SASL and tuning also through `connect(url, { broker: { … } })`. See the README for every option.
 */
export const adapter: AdapterFactory = {
  name: 'kafka',
  schemes: ['kafka'],
  // CloudEvents Kafka protocol binding: `ce_` headers, datacontenttype in the `content-type` header.
  cloudEvents: { attributePrefix: 'ce_', contentTypeHeader: 'content-type' },
  asyncApi: () => kafkaAsyncApi,
  capabilities,
  queueBrokerOptions,
  async connect(url, context) {
    const settings = resolveSettings(url, context.hosts, context.options)
    const driver = await createDriver(settings, context.logger)
    const connectionState = new ConnectionStateTracker(context.reportConnectionState)
    driver.watchConnections?.(connectionState)
    try {
      // The caller's signal drops the half-open sockets at once rather than at the deadline.
      await abortable(
        answeredWithin(driver.connect(), settings.connectionTimeoutMs + settings.requestTimeoutMs, settings.brokers),
        context.signal,
        'connect',
        'kafka',
      )
    } catch (error) {
      // terminate, not close: a close waits on requests that a silent peer never answers.
      await driver.terminate().catch(() => {})
      if (error instanceof ConnectionError || error instanceof AbortedError) throw error
      throw wrapError(error, `connecting to ${settings.brokers.join(',')}`)
    }
    return new KafkaTransport(driver, settings, context.logger, { ...capabilities, maxMessageBytes: settings.maxMessageBytes }, connectionState)
  },
}

/**
 * The first metadata answer, within one dial and one request's time. A peer that accepts the TCP
 * connection and never answers (not Kafka's port, TLS spoken to a plain listener or the reverse) is
 * otherwise waited on for ever: @platformatic/kafka's request timeout does not cover its handshake.
 */
async function answeredWithin(connecting: Promise<void>, ms: number, brokers: readonly string[]): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const silent = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ConnectionError(
            `connecting to ${brokers.join(',')}: no answer within ${ms} ms (connectionTimeoutMs + requestTimeoutMs); the port accepts connections but does not answer as a Kafka broker (another service, or TLS and plain text mixed up: see ?ssl=)`,
            { adapter: 'kafka', retryable: true },
          ),
        ),
      ms,
    )
  })
  try {
    await Promise.race([connecting, silent])
  } finally {
    clearTimeout(timer)
    connecting.catch(() => {})
  }
}

/** The oldest Node each @platformatic/kafka line runs on: 22.22 on 22.x, 24.6 on 24.x, any later major. */
export function platformaticRunsOn(version: string): boolean {
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number)
  if (major === 22) return minor >= 22
  if (major === 24) return minor >= 6
  return major > 24 || major === 23
}

/** Loads only the chosen client library: @platformatic/kafka does not load on an older Node. */
export async function createDriver(settings: KafkaSettings, logger: Logger, nodeVersion = process.versions.node): Promise<KafkaDriver> {
  if (settings.driver === 'kafkajs') {
    const { KafkajsDriver } = await import('./kafkajs-driver.js')
    return new KafkajsDriver(settings, logger)
  }
  if (!platformaticRunsOn(nodeVersion)) {
    throw new ConfigError(
      [
        {
          field: 'broker.driver',
          message: `the platformatic driver (@platformatic/kafka) needs Node >= 22.22.0 (or >= 24.6.0 on 24.x), this is Node ${nodeVersion}; upgrade Node or pick the kafkajs driver with kafka://…?driver=kafkajs (or broker: { driver: 'kafkajs' })`,
        },
      ],
      { adapter: 'kafka' },
    )
  }
  const { PlatformaticDriver } = await import('./kafka-platformatic-driver.js')
  return new PlatformaticDriver(settings, logger)
}
