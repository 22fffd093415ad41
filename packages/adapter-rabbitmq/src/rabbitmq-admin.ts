import {
  type AdminTarget,
  type BrokerStats,
  type IncomingMessage,
  type ListedDestination,
  type QueueSpec,
  type Source,
  type TransportAdmin,
  UnsupportedFeatureError,
} from '@anymq/core/spi'
import type { Channel, GetMessage } from 'amqplib'
import { adapterName } from './rabbitmq-errors.js'
import { toIncoming } from './rabbitmq-message.js'
import { names, type RabbitTopology } from './rabbitmq-topology.js'

/** What the admin calls borrow from the transport: a browsing channel, as peek and move use. */
export interface RabbitAdminContext {
  topology: RabbitTopology
  assertOpen(): void
  browse<T>(what: string, work: (channel: Channel) => Promise<T>): Promise<T>
}

/**
 * Stats, purge, delete and dead letters by id over AMQP alone. AMQP's passive declare tells ready
 * messages and consumers, not unacked ones nor ages (those are `undefined`), and AMQP cannot list
 * queues: `list()` is not declared.
 */
export class RabbitAdmin implements TransportAdmin {
  constructor(private readonly context: RabbitAdminContext) {}

  async stats(source: Source): Promise<BrokerStats> {
    this.context.assertOpen()
    const counts = await this.context.topology.counts(queueOf(source))
    return { ready: counts?.messageCount ?? 0, inFlight: undefined, consumers: counts?.consumerCount ?? 0, oldestAgeMs: undefined }
  }

  async purge(source: Source): Promise<void> {
    this.context.assertOpen()
    const queue = queueOf(source)
    if (!(await this.context.topology.exists(queue))) return
    await this.context.topology.administer(`purging queue '${queue}'`, (channel) => channel.purgeQueue(queue))
  }

  async remove(target: AdminTarget): Promise<void> {
    this.context.assertOpen()
    if (target.kind === 'topic') {
      // Deleting an exchange drops its bindings; the subscription queues stay, as AMQP cannot find them.
      await this.context.topology.administer(`deleting topic exchange '${target.topic}'`, (channel) => channel.deleteExchange(target.topic))
      return
    }
    const queue = queueOf(target)
    await this.context.topology.administer(`deleting queue '${queue}'`, async (channel) => {
      await channel.deleteQueue(queue)
      if (target.kind === 'subscription') await channel.deleteExchange(names.filterExchange(queue))
    })
  }

  async list(): Promise<ListedDestination[]> {
    throw new UnsupportedFeatureError(adapterName, 'list()', 'AMQP cannot list queues; use the management UI or rabbitmqctl list_queues')
  }

  async takeById(queue: QueueSpec, id: string, handle: (message: IncomingMessage) => Promise<void>): Promise<boolean> {
    this.context.assertOpen()
    if (!(await this.context.topology.exists(queue.name))) return false
    return this.context.browse(`taking message '${id}' from queue '${queue.name}'`, async (channel) => {
      let found: GetMessage | undefined
      try {
        while (!found) {
          const message = await channel.get(queue.name, { noAck: false })
          if (message === false) return false
          if (toIncoming(message).id === id) found = message
        }
        await handle(toIncoming(found))
        channel.ack(found)
        return true
      } finally {
        // Every other message fetched on the way goes back where it was (and the found one too when handle failed).
        channel.nackAll(true)
      }
    })
  }
}

function queueOf(source: Source): string {
  if (source.kind === 'queue') return source.queue.name
  const { topic, name } = source.subscription
  if (name === undefined) throw new UnsupportedFeatureError(adapterName, 'admin calls on an ephemeral subscription', 'name the subscription')
  return names.subscriptionQueue(topic, name)
}
