import type { AdapterFactory, Capabilities } from '@anymq/core/spi'
import { queueBrokerOptions, resolveSettings } from './kafka-config.js'
import { wrapError } from './kafka-errors.js'
import { KafkaTransport } from './kafka-transport.js'
import { KafkajsDriver } from './kafkajs-driver.js'

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
  dedupe: false,
  persistence: true,
  replay: true,
  nativeDeadLetter: false,
  maxMessageBytes: 1_000_000,
  leaseExpiry: false,
  leaseExtension: false,
  topicFilters: { subject: true, headers: true },
}

/**
 * `kafka://[user:password@]host:9092[,host2:9092][?clientId=…&ssl=true&saslMechanism=scram-sha-512…]`;
 * TLS, SASL and tuning also through `connect(url, { broker: { … } })`. See the README for every option.
 */
export const adapter: AdapterFactory = {
  name: 'kafka',
  schemes: ['kafka'],
  capabilities,
  queueBrokerOptions,
  async connect(url, context) {
    const settings = resolveSettings(url, context.hosts, context.options)
    const driver = new KafkajsDriver(settings, context.logger)
    try {
      await driver.connect()
    } catch (error) {
      await driver.close().catch(() => {})
      throw wrapError(error, `connecting to ${settings.brokers.join(',')}`)
    }
    return new KafkaTransport(driver, settings, context.logger, { ...capabilities, maxMessageBytes: settings.maxMessageBytes })
  },
}
