import type { AdminTarget, BrokerStats, IncomingMessage, ListedDestination, QueueSpec, Source, TransportAdmin } from '@anymq/core/spi'
import type { MemoryBroker } from './memory-broker.js'
import type { MemoryQueue } from './memory-queue.js'

/** Stats, purge, delete, list and dead letters by id, straight on the in-process broker's structures. */
export class MemoryAdmin implements TransportAdmin {
  constructor(
    private readonly broker: MemoryBroker,
    private readonly assertOpen: () => void,
  ) {}

  async stats(source: Source): Promise<BrokerStats> {
    this.assertOpen()
    const queue = this.find(source)
    if (!queue) return { ready: 0, inFlight: 0, consumers: 0, oldestAgeMs: undefined }
    const { ready, inFlight, consumers, oldestTimestamp } = queue.stats()
    return { ready, inFlight, consumers, oldestAgeMs: oldestTimestamp === undefined ? undefined : Math.max(0, Date.now() - oldestTimestamp) }
  }

  async purge(source: Source): Promise<void> {
    this.assertOpen()
    this.find(source)?.purge()
  }

  async remove(target: AdminTarget): Promise<void> {
    this.assertOpen()
    if (target.kind === 'queue') this.broker.deleteQueue(target.queue.name)
    else if (target.kind === 'topic') this.broker.deleteTopic(target.topic)
    else if (target.subscription.name !== undefined) this.broker.deleteSubscription(target.subscription.topic, target.subscription.name)
  }

  async list(prefix: string): Promise<ListedDestination[]> {
    this.assertOpen()
    const { queues, topics } = this.broker.names()
    const found: ListedDestination[] = queues.filter((name) => name.startsWith(prefix)).map((name) => ({ kind: 'queue', name }))
    for (const topic of topics) {
      if (!topic.name.startsWith(prefix)) continue
      found.push({ kind: 'topic', name: topic.name })
      for (const name of topic.subscriptions) found.push({ kind: 'subscription', name, topic: topic.name })
    }
    return found
  }

  async takeById(queue: QueueSpec, id: string, handle: (message: IncomingMessage) => Promise<void>): Promise<boolean> {
    this.assertOpen()
    const source = this.broker.existing({ queue: queue.name })
    const stored = source?.takeById(id)
    if (!source || !stored) return false
    try {
      await handle(stored.message)
    } catch (error) {
      source.putBack([stored])
      throw error
    }
    return true
  }

  private find(source: Source): MemoryQueue | undefined {
    if (source.kind === 'queue') return this.broker.existing({ queue: source.queue.name })
    const name = source.subscription.name
    return name === undefined ? undefined : this.broker.existing({ topic: source.subscription.topic, subscription: name })
  }
}
