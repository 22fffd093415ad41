import { randomUUID } from 'node:crypto'
import {
  type Capabilities,
  ClosedError,
  type Delivery,
  type Destination,
  type Inbox,
  type IncomingMessage,
  type OutgoingMessage,
  type QueueSpec,
  type Source,
  type Transport,
  type TransportConsumeOptions,
  type TransportConsumer,
} from '@anymq/core/spi'
import { MemoryAdmin } from './memory-admin.js'
import type { MemoryBroker } from './memory-broker.js'
import type { MemoryConsumer, MemoryQueue } from './memory-queue.js'
import { type StoredMessage, toStored } from './stored-message.js'

interface Attached {
  queue: MemoryQueue
  consumer: MemoryConsumer
  detach: (crashed: boolean) => void
}

/** One connection to an in-process broker. */
export class MemoryTransport implements Transport {
  private readonly attached = new Set<Attached>()
  private closed = false
  readonly admin: MemoryAdmin

  constructor(
    private readonly broker: MemoryBroker,
    readonly capabilities: Capabilities,
  ) {
    broker.opened()
    this.admin = new MemoryAdmin(broker, () => this.assertOpen())
  }

  /** Stores the messages at once; the promise is one already resolved (or rejected), not one per call. */
  publish(destination: Destination, messages: readonly OutgoingMessage[]): Promise<void> {
    try {
      this.store(destination, messages)
    } catch (error) {
      return Promise.reject(error)
    }
    return published
  }

  /** {@link Transport.publishNow}: the message is stored when this returns. */
  publishNow(destination: Destination, message: OutgoingMessage): void {
    this.assertOpen()
    this.storeOne(destination, message)
  }

  private store(destination: Destination, messages: readonly OutgoingMessage[]): void {
    this.assertOpen()
    for (const message of messages) this.storeOne(destination, message)
  }

  private storeOne(destination: Destination, message: OutgoingMessage): void {
    const stored = toStored(message)
    switch (destination.kind) {
      case 'queue':
        this.broker.queue(destination.queue.name).enqueue(stored, message.delayMs, message.dedupeId)
        break
      case 'topic':
        this.broker.publishToTopic(destination.topic, stored)
        break
      case 'subscription':
        this.broker.subscription(destination.subscription).queue.enqueue(stored, message.delayMs)
        break
      case 'inbox':
        this.broker.queue(inboxQueueName(destination.address)).enqueue(stored, 0)
        break
    }
  }

  async consume(source: Source, options: TransportConsumeOptions, deliver: (delivery: Delivery) => void): Promise<TransportConsumer> {
    this.assertOpen()
    if (source.kind === 'queue') return this.attach(this.broker.queue(source.queue.name), options, deliver, () => {})
    const { queue, remove } = this.broker.subscription(source.subscription)
    return this.attach(queue, options, deliver, remove)
  }

  async openInbox(options: TransportConsumeOptions, deliver: (delivery: Delivery) => void): Promise<Inbox> {
    this.assertOpen()
    const address = `inbox-${randomUUID()}`
    const name = inboxQueueName(address)
    const consumer = await this.attach(this.broker.queue(name), options, deliver, () => this.broker.deleteQueue(name))
    return { address, close: () => consumer.close() }
  }

  async peek(queue: QueueSpec, limit: number): Promise<IncomingMessage[]> {
    this.assertOpen()
    return this.broker.queue(queue.name).peek(limit)
  }

  async move(from: QueueSpec, to: Destination, limit: number, prepare: (message: IncomingMessage) => OutgoingMessage): Promise<number> {
    this.assertOpen()
    const source = this.broker.queue(from.name)
    // Only what waits now, taken in one go: a moved message that fails and comes back is not moved twice.
    const waiting = source.take(limit)
    for (let index = 0; index < waiting.length; index++) {
      try {
        await this.publish(to, [prepare((waiting[index] as StoredMessage).message)])
      } catch (error) {
        source.putBack(waiting.slice(index))
        throw error
      }
    }
    return waiting.length
  }

  async close(): Promise<void> {
    this.shutdown(false)
  }

  async terminate(): Promise<void> {
    this.shutdown(true)
  }

  private shutdown(crashed: boolean): void {
    if (this.closed) return
    this.closed = true
    for (const attached of [...this.attached]) attached.detach(crashed)
    this.broker.closed()
  }

  private attach(queue: MemoryQueue, options: TransportConsumeOptions, deliver: (delivery: Delivery) => void, onClose: () => void): TransportConsumer {
    const consumer: MemoryConsumer = {
      prefetch: options.prefetch,
      leaseMs: options.leaseMs,
      bodiesReadOnly: options.bodiesReadOnly === true,
      inflight: 0,
      deliver,
    }
    let detached = false
    const attached: Attached = {
      queue,
      consumer,
      detach: (crashed) => {
        if (detached) return
        detached = true
        this.attached.delete(attached)
        queue.removeConsumer(consumer, crashed)
        onClose()
      },
    }
    this.attached.add(attached)
    queue.addConsumer(consumer)
    return {
      // No capacity, so the queue hands it nothing more: a stopping consumer is never delivered to.
      stop: async () => {
        consumer.prefetch = 0
      },
      close: async () => attached.detach(false),
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new ClosedError('the memory connection', { adapter: 'memory' })
  }
}

const published: Promise<void> = Promise.resolve()

function inboxQueueName(address: string): string {
  return `~${address}`
}
