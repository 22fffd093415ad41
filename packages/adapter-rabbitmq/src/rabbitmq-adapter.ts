import type { AdapterFactory, Capabilities } from '@anymq/core/spi'
import { rabbitmqAsyncApi } from './rabbitmq-asyncapi.js'
import { queueBrokerOptions, resolveConfig } from './rabbitmq-config.js'
import { RabbitConnection } from './rabbitmq-connection.js'
import { adapterName } from './rabbitmq-errors.js'
import { withQueueTypePriority } from './rabbitmq-priority.js'
import { maxDelayMs } from './rabbitmq-topology.js'
import { RabbitTransport } from './rabbitmq-transport.js'

/**
 * What RabbitMQ does through this adapter. No leases: a message stays with its consumer until it is
 * settled or the consumer's channel closes. Priority only on queues made with `maxPriority`: RabbitMQ
 * fixes `x-max-priority` when it creates a queue (classic queues: levels 0 to `maxPriority`, strictly;
 * quorum queues of RabbitMQ 4+: two levels, 2:1; older quorum queues: refused). No replay or dedupe:
 * classic and quorum queues keep neither history nor message ids.
 */
export const capabilities: Capabilities = {
  delay: { maxMs: maxDelayMs },
  ordering: 'key',
  priority: true,
  priorityQueues: 'declared',
  expiry: 'native',
  dedupe: false,
  persistence: true,
  replay: false,
  nativeDeadLetter: false,
  maxMessageBytes: 134_217_728,
  leaseExpiry: false,
  leaseExtension: false,
  topicFilters: { subject: true, headers: true },
  // AMQP cannot list queues or count unacked messages; the rest goes over the protocol itself.
  admin: { stats: true, purge: true, delete: true, list: false, deadLetterById: true },
}

/**
 * `amqp://user:pass@host:5672/vhost` or `amqps://…`; a cluster as `amqp://user:pass@a:5672,b:5672,c:5672/vhost`
 * (a lost connection is reopened to the next node that answers). URL options: `?heartbeat=10`, `?frameMax=`,
 * `?channelMax=`, `?locale=`, `?maxMessageBytes=`, `?queueType=classic|quorum`, `?provision=true|false`.
 * Connection options (`connect(url, { broker })`): see {@link RabbitmqBrokerOptions}.
 */
export const adapter: AdapterFactory = {
  name: adapterName,
  schemes: ['amqp', 'amqps'],
  // CloudEvents AMQP protocol binding: attributes as `cloudEvents:`-prefixed application properties (headers), or `cloudEvents_` (its JMS-compatible form); datacontenttype is the content-type property.
  cloudEvents: { attributePrefix: 'cloudEvents:', acceptedPrefixes: ['cloudEvents_'] },
  asyncApi: rabbitmqAsyncApi,
  capabilities,
  queueBrokerOptions,
  async connect(url, context) {
    const config = resolveConfig(url, context.options, context.capabilities, context.hosts)
    const connection = await RabbitConnection.open(config, context.logger, context.reportConnectionState, context.signal)
    const capabilities = withQueueTypePriority(config.capabilities, config.queueType, connection.serverVersion)
    return new RabbitTransport(connection, { ...config, capabilities }, context.logger)
  },
}
