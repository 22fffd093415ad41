import { ConfigError, type Destination, describeDestination, type OutgoingMessage } from '@anymq/core/spi'
import { publishError } from './redis-errors.js'
import { inboxTtlMs } from './redis-inbox.js'
import type { RedisKeys } from './redis-keys.js'
import type { ScriptedRedis } from './redis-scripts.js'
import { delayedMember, entryFields } from './redis-wire.js'

/** One write, applied either to the connection or to a MULTI transaction. */
type Write = (writer: ScriptedRedis) => unknown

/**
 * Writes messages: XADD into the destination's stream, or into its delay set (a sorted set scored by
 * due time) when delayed. A batch is one MULTI/EXEC: one round trip, and all of it or none. Resolves
 * only with Redis' reply, which with `appendfsync always` comes after the write reached the disk.
 */
export class RedisPublisher {
  constructor(
    private readonly commands: ScriptedRedis,
    private readonly keys: RedisKeys,
    private readonly onTopicWrite: (stream: string) => void,
    private readonly replication: { waitReplicas: number; waitTimeoutMs: number } = { waitReplicas: 0, waitTimeoutMs: 0 },
  ) {}

  async publish(destination: Destination, messages: readonly OutgoingMessage[]): Promise<void> {
    const writes: Write[] = []
    for (const message of messages) writes.push(...this.writesFor(destination, message))
    await this.apply(writes, describeDestination(destination), messages.length)
    if (destination.kind === 'topic') this.onTopicWrite(this.keys.topic(destination.topic))
    if (destination.kind === 'subscription') this.onTopicWrite(this.keys.topic(destination.subscription.topic))
  }

  /** The writes that put one message into a destination (for {@link apply}, or a caller's own MULTI). */
  writesFor(destination: Destination, message: OutgoingMessage): Write[] {
    switch (destination.kind) {
      case 'queue': {
        const name = destination.queue.name
        if (message.delayMs > 0) {
          const member = delayedMember(message)
          return [(writer) => writer.anymqSchedule(this.keys.queueDelayed(name), message.delayMs, member)]
        }
        const stream = this.keys.queue(name)
        const values = entryFields(message)
        return [(writer) => writer.xadd(stream, '*', ...values)]
      }
      case 'topic': {
        const stream = this.keys.topic(destination.topic)
        const values = entryFields(message)
        return [(writer) => writer.xadd(stream, '*', ...values)]
      }
      case 'subscription': {
        const { topic, name } = destination.subscription
        if (name === undefined) {
          throw new ConfigError([{ field: 'subscription', message: 'an ephemeral subscription cannot be addressed directly' }], { adapter: 'redis' })
        }
        if (message.delayMs > 0) {
          const member = delayedMember(message, name)
          return [(writer) => writer.anymqSchedule(this.keys.subscriptionDelayed(topic, name), message.delayMs, member)]
        }
        const stream = this.keys.topic(topic)
        const values = entryFields(message, name)
        return [(writer) => writer.xadd(stream, '*', ...values)]
      }
      case 'inbox': {
        const stream = this.keys.inbox(destination.address)
        const values = entryFields(message)
        return [(writer) => writer.xadd(stream, '*', ...values), (writer) => writer.pexpire(stream, inboxTtlMs)]
      }
    }
  }

  /** Runs writes: one command directly, several in one MULTI/EXEC; then waits for replicas if asked. */
  async apply(writes: readonly Write[], where: string, count: number): Promise<void> {
    const what = `writing ${count} message${count === 1 ? '' : 's'} to ${where}`
    await this.write(writes, what)
    await this.replicated(what)
  }

  /**
   * Replication is asynchronous: a primary killed right after its reply takes unreplicated writes with
   * it, and Sentinel promotes a replica without them. `WAIT` returns once `waitReplicas` replicas have
   * every earlier write of this connection; fewer in time fails the publish (retryable: it may be stored).
   */
  private async replicated(what: string): Promise<void> {
    const { waitReplicas, waitTimeoutMs } = this.replication
    if (waitReplicas === 0) return
    let acknowledged: number
    try {
      acknowledged = await this.commands.wait(waitReplicas, waitTimeoutMs)
    } catch (error) {
      throw publishError(what, error)
    }
    if (acknowledged < waitReplicas) {
      throw publishError(
        what,
        new Error(`only ${acknowledged} of ${waitReplicas} replicas acknowledged the write within ${waitTimeoutMs} ms; it may or may not be kept`),
      )
    }
  }

  private async write(writes: readonly Write[], what: string): Promise<void> {
    if (writes.length === 1) {
      try {
        await (writes[0] as Write)(this.commands)
      } catch (error) {
        throw publishError(what, error)
      }
      return
    }
    const transaction = this.commands.multi()
    for (const write of writes) write(transaction as unknown as ScriptedRedis)
    let results: Array<[Error | null, unknown]> | null
    try {
      results = await transaction.exec()
    } catch (error) {
      throw publishError(what, error)
    }
    if (results === null) throw publishError(what, new Error('the transaction was aborted'))
    const failed = results.find(([error]) => error !== null)
    if (failed) throw publishError(what, failed[0])
  }
}
