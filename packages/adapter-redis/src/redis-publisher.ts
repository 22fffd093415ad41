import { ConfigError, type Destination, describeDestination, type OutgoingMessage } from '@anymq/core/spi'
import type { RedisArgument, RedisConnection } from './redis-driver.js'
import { isConnectionProblem, publishError } from './redis-errors.js'
import { inboxTtlMs } from './redis-inbox.js'
import type { RedisKeys } from './redis-keys.js'
import type { ReplyPubSub } from './redis-reply-pubsub.js'
import { appendArguments, runScript, scriptCommand } from './redis-scripts.js'
import { delayedMember, publishedReply, type WireLayout, xadd } from './redis-wire.js'

/** A script to run as one write: the keys, then the arguments. */
export interface ScriptWrite {
  script: 'anymqSchedule' | 'anymqEnqueueByPriority' | 'anymqOnce'
  args: RedisArgument[]
}

/** How long a `dedupeId` drops repeats sent to the same destination (as SQS FIFO's and memory's window). */
export const dedupeWindowMs = 300_000

/** One write: a command (its arguments, the name first), or a script; applied alone, or within a MULTI transaction. */
export type Write = RedisArgument[] | ScriptWrite

/**
 * Writes messages: XADD into the destination's stream, or into its delay set (a sorted set scored by
 * due time) when delayed; a priority queue's into its waiting set (see `redis-priority.ts`). A batch is one
 * round trip, and all of it or none: one MULTI/EXEC, or one `anymqAppend` script on a driver whose MULTI
 * costs more ({@link RedisConnection.batchesAsScript}). Resolves
 * only with Redis' reply, which with `appendfsync always` comes after the write reached the disk.
 */
export class RedisPublisher {
  /** The queue last written to, and its stream key: a batch (or a run of sends) names one queue, its key built once. */
  private lastQueue = ''
  private lastQueueKey = ''
  /** `SPUBLISH` or `PUBLISH`, once the server was asked (see {@link replyPubSub}); `null` once refused. */
  private publishCommand: string | null | undefined

  constructor(
    private readonly commands: RedisConnection,
    private readonly keys: RedisKeys,
    private readonly onTopicWrite: (stream: string) => void,
    private readonly replyPubSub: () => Promise<ReplyPubSub>,
    private readonly settings: { waitReplicas: number; waitTimeoutMs: number; wireLayout: WireLayout } = {
      waitReplicas: 0,
      waitTimeoutMs: 0,
      wireLayout: 'packed',
    },
  ) {}

  /** Not `async`: a single send costs the client's promise and one reaction, not a chain of awaits. */
  publish(destination: Destination, messages: readonly OutgoingMessage[]): Promise<void> {
    if (destination.kind === 'inbox' && messages.length === 1) return this.reply(destination, messages[0] as OutgoingMessage)
    const writes: Write[] = []
    for (const message of messages) this.addWrites(writes, destination, message)
    const applied = this.apply(writes, destination, messages.length)
    if (destination.kind === 'topic') return applied.then(() => this.onTopicWrite(this.keys.topic(destination.topic)))
    if (destination.kind === 'subscription') return applied.then(() => this.onTopicWrite(this.keys.topic(destination.subscription.topic)))
    return applied
  }

  /**
   * A reply: published on the requester's inbox channel first (`SPUBLISH`, or `PUBLISH` before Redis
   * 7: see `redis-reply-pubsub.ts`). A publish is not written to the AOF, so with `appendfsync always`
   * it waits for no fsync; it returns how many subscribers got the reply. None (the requester is
   * reconnecting its subscriber, or is an older anymq, or a foreign client that only reads the
   * stream): the reply is written into the inbox stream as before, so no reply is lost that the stream
   * would have kept. See `redis-inbox.ts`.
   */
  private reply(destination: Extract<Destination, { kind: 'inbox' }>, message: OutgoingMessage): Promise<void> {
    const streamed = () => this.apply(this.writesFor(destination, message), destination, 1)
    if (this.publishCommand === null) return streamed()
    let published: Promise<unknown>
    try {
      const command = this.publishCommand
      const args = [this.keys.inboxChannel(destination.address), publishedReply(message, this.settings.wireLayout)]
      published =
        command !== undefined
          ? this.commands.call([command, ...args])
          : this.replyPubSub().then((pubSub) => {
              this.publishCommand = pubSub === 'sharded' ? 'SPUBLISH' : 'PUBLISH'
              return this.commands.call([this.publishCommand, ...args])
            })
    } catch (error) {
      published = Promise.reject(error)
    }
    return published.then(
      (receivers) => (Number(receivers) > 0 ? undefined : streamed()),
      (error: unknown) => {
        if (isConnectionProblem(error)) throw publishError(`sending a reply to ${describeDestination(destination)}`, error)
        // A refusal (an ACL without channels: Redis 7 gives a new user none by default) streams from now on;
        // any other error of the publish, this reply only.
        if (/^NOPERM|unknown command/i.test(String((error as Error)?.message))) this.publishCommand = null
        return streamed()
      },
    )
  }

  /** The writes that put one message into a destination (for {@link apply}, or a caller's own MULTI). */
  writesFor(destination: Destination, message: OutgoingMessage): Write[] {
    const writes: Write[] = []
    this.addWrites(writes, destination, message)
    return writes
  }

  /** Appends the writes of one message to `writes`: no array of its own per message. */
  private addWrites(writes: Write[], destination: Destination, message: OutgoingMessage): void {
    // Core takes a dedupeId on queue sends only. Names hold no `:`, so `:dedupe:` meets no other key of the queue.
    if (message.dedupeId !== undefined && destination.kind === 'queue') {
      const at = writes.length
      this.addPlainWrites(writes, destination, message)
      writes[at] = once(writes[at] as Write, `${this.queueKey(destination.queue.name)}:dedupe:${message.dedupeId}`)
      return
    }
    this.addPlainWrites(writes, destination, message)
  }

  private addPlainWrites(writes: Write[], destination: Destination, message: OutgoingMessage): void {
    const layout = this.settings.wireLayout
    switch (destination.kind) {
      case 'queue': {
        const name = destination.queue.name
        const priority = destination.queue.maxPriority === undefined ? undefined : (message.priority ?? 0)
        if (message.delayMs > 0) {
          const member = delayedMember(message, undefined, priority, layout)
          writes.push({ script: 'anymqSchedule', args: [this.keys.queueDelayed(name), message.delayMs, member] })
        } else if (priority !== undefined) {
          writes.push({ script: 'anymqEnqueueByPriority', args: [this.keys.queue(name), delayedMember(message, undefined, priority, layout)] })
        } else writes.push(xadd(this.queueKey(name), message, undefined, layout))
        return
      }
      case 'topic':
        writes.push(xadd(this.keys.topic(destination.topic), message, undefined, layout))
        return
      case 'subscription': {
        const { topic, name } = destination.subscription
        if (name === undefined) {
          throw new ConfigError([{ field: 'subscription', message: 'an ephemeral subscription cannot be addressed directly' }], { adapter: 'redis' })
        }
        if (message.delayMs > 0) {
          const member = delayedMember(message, name, undefined, layout)
          writes.push({ script: 'anymqSchedule', args: [this.keys.subscriptionDelayed(topic, name), message.delayMs, member] })
        } else writes.push(xadd(this.keys.topic(topic), message, name, layout))
        return
      }
      case 'inbox': {
        const stream = this.keys.inbox(destination.address)
        writes.push(xadd(stream, message, undefined, layout), ['PEXPIRE', stream, inboxTtlMs])
        return
      }
    }
  }

  /** {@link RedisKeys.queue}, remembered for the queue last written to. */
  private queueKey(name: string): string {
    if (name !== this.lastQueue) {
      this.lastQueueKey = this.keys.queue(name)
      this.lastQueue = name
    }
    return this.lastQueueKey
  }

  /** Runs writes: one command directly, several in one MULTI/EXEC (or script); then waits for replicas if asked. */
  apply(writes: readonly Write[], where: Destination, count: number): Promise<void> {
    // Described only when something failed: building the text costs more than the XADD on the happy path.
    const what = () => `writing ${count} message${count === 1 ? '' : 's'} to ${describeDestination(where)}`
    const written = this.write(writes).then(
      () => undefined,
      (error: unknown) => {
        throw publishError(what(), error)
      },
    )
    if (this.settings.waitReplicas === 0) return written
    return written.then(() => this.replicated(what()))
  }

  /**
   * Replication is asynchronous: a primary killed right after its reply takes unreplicated writes with
   * it, and Sentinel promotes a replica without them. `WAIT` returns once `waitReplicas` replicas have
   * every earlier write of this connection; fewer in time fails the publish (retryable: it may be stored).
   */
  private async replicated(what: string): Promise<void> {
    const { waitReplicas, waitTimeoutMs } = this.settings
    let acknowledged: number
    try {
      acknowledged = Number(await this.commands.call(['WAIT', waitReplicas, waitTimeoutMs]))
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

  private write(writes: readonly Write[]): Promise<unknown> {
    try {
      if (writes.length === 1) {
        const write = writes[0] as Write
        return Array.isArray(write) ? this.commands.call(write) : runScript(this.commands, write.script, write.args)
      }
      const appended = this.commands.batchesAsScript ? appendArguments(writes) : undefined
      if (appended !== undefined) return runScript(this.commands, 'anymqAppend', appended)
      return this.commands.transaction(writes.map((write) => (Array.isArray(write) ? write : scriptCommand(write.script, write.args))))
    } catch (error) {
      return Promise.reject(error)
    }
  }
}

/** `write` as one `anymqOnce` script: done only when `marker` is not set, which it then sets for the window. */
function once(write: Write, marker: string): Write {
  if (Array.isArray(write)) return { script: 'anymqOnce', args: [marker, write[1] as RedisArgument, dedupeWindowMs, 'add', ...write.slice(2)] }
  const [key, ...rest] = write.args
  const kind = write.script === 'anymqSchedule' ? 'schedule' : 'priority'
  return { script: 'anymqOnce', args: [marker, key as RedisArgument, dedupeWindowMs, kind, ...rest] }
}
