import { randomBytes } from 'node:crypto'
import { hostname } from 'node:os'
import {
  type Delivery,
  filterMatches,
  type IncomingMessage,
  retryCopy,
  SharedTurnBatch,
  settlesWithin,
  type TopicFilter,
  type TransportConsumeOptions,
  type TransportConsumer,
} from '@anymq/core/spi'
import type { RedisSettings } from './redis-config.js'
import { pause, whenReady } from './redis-connection.js'
import type { RedisConnection, RedisDriver } from './redis-driver.js'
import { connectionError, isConnectionProblem } from './redis-errors.js'
import { isTurn } from './redis-priority.js'
import type { RedisScripts } from './redis-scripts.js'
import { delayedMember, memberFields, type RawEntry, type RedisEntry, readEntry } from './redis-wire.js'

/** One stream read through one consumer group: a queue, or one subscription of a topic. */
export interface ConsumerSource {
  stream: string
  group: string
  /** Delay set of this source's retries. */
  delayed: string
  /** Where the group starts when this consumer creates it: `0` (everything) or `$` (from now). */
  startAt: '0' | '$'
  /** Delete acknowledged entries (queues: nobody else reads them); topics keep them for the other groups. */
  deleteAcked: boolean
  /** Entries addressed to another group (`group` field) are skipped; set on topic subscriptions. */
  addressed: boolean
  filter: TopicFilter | undefined
  /** Ephemeral subscriber: the group is destroyed on close. */
  ephemeral: boolean
  /**
   * Ordered queues: the lock only one consumer at a time may hold (single active consumer). The others
   * wait; a new holder first claims every entry the previous one left pending, oldest first.
   */
  activeLock: string | undefined
  /** A priority queue (made with `maxPriority`): retries and due delayed messages go back through its waiting set. */
  priority: boolean
  /** What to call it in errors. */
  label: string
}

export interface ConsumerContext {
  settings: RedisSettings
  driver: RedisDriver
  /** The shared command connection: settling, group management. */
  commands: RedisConnection
  scripts: RedisScripts
  logger: import('@anymq/core/spi').Logger
  /** Keeps the delay mover of this source running while the consumer lives; returns its release. */
  retainMover(delayed: string, stream: string, priority: boolean): () => void
}

/**
 * One entry handed to core, until settled. A class rather than an object of closures: one allocation
 * per message; its methods are the consumer's.
 */
class RedisDelivery implements Delivery {
  /** Keep the entry's lease fresh until then (epoch ms); 0 = let it lapse by itself. */
  holdUntil = 0
  settled = false

  constructor(
    private readonly consumer: RedisConsumer,
    readonly message: IncomingMessage,
    readonly raw: RedisEntry,
    /** The entry is a turn of a priority queue: its ack also forgets the message bound to it. */
    readonly turn: boolean,
  ) {}

  ack(): Promise<void> {
    return this.consumer.settleAck(this)
  }

  /**
   * Joins this turn's XACK (the same batch {@link ack} joins) and returns at once: core frees the
   * handler's slot without a promise per message to await. A failed flush is reported to the
   * consumer's `onError` once, and the entry stays pending until its lease lapses and it is
   * redelivered, as after a failed `ack()`; close() still waits for the flush.
   */
  ackNow(): boolean {
    this.consumer.settleAckNow(this)
    return true
  }

  // A retry that fails leaves the entry unsettled (the SPI's contract): core releases it next.
  retry(options: { delayMs: number; headers: Record<string, string> }): Promise<void> {
    return this.consumer.settleRetry(this, options)
  }

  release(): Promise<void> {
    return this.consumer.settleRelease(this)
  }

  async extendLease(ms: number): Promise<void> {
    if (this.settled) return
    this.holdUntil = Math.max(this.holdUntil, Date.now() + ms)
    await this.consumer.touch([this.raw.entryId])
  }
}

/** An entry as read, before it is handed over: its delivery count, and whether it was a turn now bound to its message. */
interface ReadEntry {
  raw: RawEntry
  deliveries: number
  turn: boolean
}

const reclaimBatch = 100

/** `head` followed by `ids`, in one array of its final length (a spread went through the iterator protocol, an object per id). */
function command(head: string[], ids: readonly string[]): string[] {
  const args = new Array<string>(head.length + ids.length)
  for (let index = 0; index < head.length; index++) args[index] = head[index] as string
  for (let index = 0; index < ids.length; index++) args[head.length + index] = ids[index] as string
  return args
}

/**
 * A consumer of one consumer group. Reads with a blocking XREADGROUP on a connection of its own (a
 * blocking read stalls every other command on its connection), at most `prefetch` entries unsettled;
 * settles on the shared command connection. Entries held too long by anyone (a crashed consumer, or
 * entries released on close) are reclaimed with XPENDING IDLE + XCLAIM in one script.
 *
 * Leases: with `leaseMs`, an entry unsettled for that long goes to another consumer, unless the
 * handler extends it. Without `leaseMs`, the consumer keeps its entries' leases fresh while it lives,
 * so a slow handler is never interrupted, and a crashed consumer's entries are reclaimed after the
 * default lease (30 s).
 */
export class RedisConsumer implements TransportConsumer {
  readonly name = `${hostname()}-${process.pid}-${randomBytes(4).toString('hex')}`
  private blocking: RedisConnection | undefined
  private blockingId: number | undefined
  private readonly inflight = new Set<RedisDelivery>()
  /** Settlements still running; close() waits for them. A count, not a set of promises: one promise less per message. */
  private pendingWork = 0
  private whenNoPendingWork: (() => void) | undefined
  private stopped = false
  private closed = false
  private loop: Promise<void> | undefined
  private wakeLoop: (() => void) | undefined
  /** Aborted on stop: wakes every wait at once. */
  private readonly stopping = new AbortController()
  private leaseTimer: NodeJS.Timeout | undefined
  private releaseMover: (() => void) | undefined
  private nextReclaimAt = 0
  /** The last reclaim filled the capacity it had: there may be more to take as soon as capacity frees. */
  private moreToReclaim = false
  private readonly leaseMs: number
  private readonly holdWhileAlive: boolean
  /**
   * Acks are batched: every ack asked for in one turn of the event loop goes in one XACK (and XDEL),
   * and they all share that flush's one promise. close() waits for the flushes.
   */
  private readonly acks = new SharedTurnBatch<string>((entryIds) => this.flushAcks(entryIds))
  /** Acks in the next flush taken through `ackNow`: nobody awaits that flush for them, so its failure is reported here. */
  private acksNow = 0
  /** Entry ids waiting in {@link acks} that are turns of a priority queue (their binding goes too). */
  private readonly turnAcks = new Set<string>()
  private readonly prefetch: number
  /** Holds the single-active-consumer lock (always true when the source has none). */
  private active: boolean
  /** While taking over an ordered queue: where the claim of the previous holder's entries goes on. */
  private takeoverCursor: string | undefined
  /** Errors reported since the last successful read: each different one is reported once per outage. */
  private readonly reported = new Set<string>()

  constructor(
    private readonly context: ConsumerContext,
    private readonly source: ConsumerSource,
    private readonly options: TransportConsumeOptions,
    private readonly deliver: (delivery: Delivery) => void,
  ) {
    this.leaseMs = options.leaseMs ?? context.settings.defaultLeaseMs
    this.holdWhileAlive = options.leaseMs === undefined
    this.prefetch = Math.max(1, options.prefetch)
    this.active = source.activeLock === undefined
  }

  /** Creates the group when missing, opens the blocking connection and starts reading. */
  async start(): Promise<void> {
    await this.ensureGroup()
    this.blocking = await this.context.driver.open(this.context.settings, 'consumer', this.context.logger, (error) => this.reportOutage(error))
    this.blockingId = await this.fetchClientId()
    this.blocking.onReady(() => {
      void this.fetchClientId().then((id) => {
        this.blockingId = id
      })
    })
    this.releaseMover = this.context.retainMover(this.source.delayed, this.source.stream, this.source.priority)
    this.loop = this.readLoop()
    this.scheduleTouch()
  }

  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true
      this.stopping.abort()
      this.wakeLoop?.()
      clearTimeout(this.leaseTimer)
      this.leaseTimer = undefined
      // Wakes the blocking read at once instead of waiting out BLOCK (needs the CLIENT permission).
      // Not waited for past unblockWaitMs: a server that stopped answering would hold it for good, and
      // the read ends anyway (BLOCK, or the blocking watchdog).
      if (this.blockingId !== undefined && this.blocking?.ready) {
        await settlesWithin(
          this.context.commands.call(['CLIENT', 'UNBLOCK', this.blockingId]).catch(() => {}),
          unblockWaitMs,
        )
      }
    }
    await this.loop
  }

  async close(): Promise<void> {
    if (this.closed) return
    await this.stop()
    this.closed = true
    const detaching = this.detach()
    if (await settlesWithin(detaching, closeAnswerWaitMs)) return detaching
    // Redis took the connection and stopped answering (frozen, or cut off without a reset): the settles
    // and the detach calls would wait for good, and mq.close() with them.
    this.context.logger.warn(
      `closing ${this.source.label}: Redis did not answer within ${closeAnswerWaitMs} ms, so the consumer's connection was dropped; what it had not settled is delivered again once its lease lapses`,
    )
    const releaseMover = this.releaseMover
    this.releaseMover = undefined
    releaseMover?.()
    this.blocking?.terminate()
  }

  /** Waits for the settles under way, gives back what was never settled and leaves the group. */
  private async detach(): Promise<void> {
    do {
      while (this.pendingWork > 0) {
        await new Promise<void>((resolve) => {
          this.whenNoPendingWork = resolve
        })
      }
      await this.acks.drained()
    } while (this.pendingWork > 0)
    const unsettled = [...this.inflight].filter((held) => !held.settled)
    for (const held of unsettled) held.settled = true
    this.inflight.clear()
    const { commands, scripts } = this.context
    try {
      if (this.source.ephemeral) {
        await commands.call(['XGROUP', 'DESTROY', this.source.stream, this.source.group])
        await commands.call(['DEL', this.source.delayed])
      } else {
        if (unsettled.length > 0) await this.releaseEntries(unsettled.map((held) => held.raw))
        if (this.source.activeLock !== undefined && this.active) await scripts.dropLock(this.source.activeLock, this.name)
        await scripts.removeConsumer(this.source.stream, this.source.group, this.name)
      }
    } catch (error) {
      this.options.onError(connectionError(`detaching from ${this.source.label}`, error))
    } finally {
      this.releaseMover?.()
      if (this.blocking) await this.blocking.close()
    }
  }

  /** Drops the connection as a crashed process would: nothing is settled or released. */
  kill(): void {
    this.stopped = true
    this.closed = true
    this.stopping.abort()
    this.wakeLoop?.()
    clearTimeout(this.leaseTimer)
    this.releaseMover?.()
    this.blocking?.terminate()
  }

  /**
   * Creates the group, waiting out a failover: right after Sentinel promotes a replica, the new primary
   * refuses writes (NOREPLICAS under `min-replicas-to-write`) until a replica has attached, for a few
   * seconds. Gives up after `connectTimeoutMs`.
   */
  private async ensureGroup(): Promise<void> {
    const deadline = Date.now() + this.context.settings.connectTimeoutMs
    for (;;) {
      try {
        return await this.createGroup()
      } catch (error) {
        if (!isConnectionProblem((error as { cause?: unknown }).cause ?? error) || Date.now() > deadline || this.stopped) throw error
        await pause(200, this.stopping.signal)
      }
    }
  }

  private async createGroup(): Promise<void> {
    const commands = this.context.commands
    try {
      if (this.source.ephemeral) {
        // The consumer is created with the group so that the reaper of abandoned ephemeral groups sees it alive.
        await commands.transaction([
          ['XGROUP', 'CREATE', this.source.stream, this.source.group, '$', 'MKSTREAM'],
          ['XGROUP', 'CREATECONSUMER', this.source.stream, this.source.group, this.name],
        ])
      } else {
        await commands.call(['XGROUP', 'CREATE', this.source.stream, this.source.group, this.source.startAt, 'MKSTREAM'])
      }
    } catch (error) {
      if (!String((error as Error).message).includes('BUSYGROUP')) throw connectionError(`creating the consumer group of ${this.source.label}`, error)
    }
  }

  private async fetchClientId(): Promise<number | undefined> {
    try {
      return Number(await this.blocking?.call(['CLIENT', 'ID']))
    } catch {
      return undefined
    }
  }

  private get capacity(): number {
    return this.prefetch - this.inflight.size
  }

  /** Enough is free to read again: half the prefetch, or everything. */
  private roomToRead(): boolean {
    return this.capacity > 0 && (this.inflight.size === 0 || this.capacity >= Math.ceil(this.prefetch / 2))
  }

  private async readLoop(): Promise<void> {
    const { settings } = this.context
    let failures = 0
    while (!this.stopped) {
      const blocking = this.blocking as RedisConnection
      // Refill in batches: wait until half the prefetch is free (or nothing is held) instead of reading one entry per settle.
      if (!this.roomToRead()) {
        await new Promise<void>((resolve) => {
          this.wakeLoop = resolve
        })
        this.wakeLoop = undefined
        continue
      }
      if (!blocking.ready) {
        await whenReady(blocking, 1000, this.stopping.signal)
        continue
      }
      if (!this.active) {
        await this.tryToBecomeActive()
        continue
      }
      if (this.takeoverCursor !== undefined) {
        try {
          await this.takeOver(this.takeoverCursor)
        } catch (error) {
          this.reportOutage(connectionError(`taking over ${this.source.label}`, error))
          await this.sleep(1000)
        }
        continue
      }
      if (this.moreToReclaim || Date.now() >= this.nextReclaimAt) {
        try {
          await this.reclaim()
        } catch (error) {
          this.reportOutage(connectionError(`reclaiming entries of ${this.source.label}`, error))
          this.nextReclaimAt = Date.now() + 1000
        }
        continue
      }
      let reply: Array<[Buffer, RawEntry[]]> | null
      try {
        reply = (await blocking.call(
          // Numbers as text: the driver passes an array of strings on as it is, where a number among them made it copy the array.
          [
            'XREADGROUP',
            'GROUP',
            this.source.group,
            this.name,
            'COUNT',
            String(this.capacity),
            'BLOCK',
            String(settings.blockMs),
            'STREAMS',
            this.source.stream,
            '>',
          ],
          { binary: true, blockMs: settings.blockMs },
        )) as Array<[Buffer, RawEntry[]]> | null
        failures = 0
        this.reported.clear()
      } catch (error) {
        if (this.stopped) break
        if (String((error as Error).message).includes('NOGROUP')) {
          // The stream or group was deleted behind our back (FLUSHDB, DEL, a reaped ephemeral group): recreate it.
          await this.ensureGroup().catch((groupError: unknown) => this.reportOutage(connectionError(`recreating ${this.source.label}`, groupError)))
          continue
        }
        this.reportOutage(connectionError(`reading ${this.source.label}`, error))
        failures++
        await this.sleep(Math.min(2000, 50 * 2 ** Math.min(failures, 6)))
        continue
      }
      const streams = reply ?? []
      if (!streams.some(([, entries]) => entries.some(isTurn))) {
        // The usual read, no turn of a priority queue among the entries: handed over as they are, no record per entry.
        for (const [, entries] of streams) for (const raw of entries) this.accept(raw, 1, false)
        continue
      }
      const read: ReadEntry[] = []
      for (const [, entries] of streams) {
        for (const raw of entries) read.push({ raw, deliveries: 1, turn: false })
      }
      await this.acceptAll(read)
    }
  }

  /**
   * Hands read entries over in order, after binding the turns of a priority queue to their messages in
   * one script. When that fails, the turns stay pending on this consumer and are reclaimed after the lease.
   */
  private async acceptAll(read: ReadEntry[]): Promise<void> {
    const turns = read.filter((item) => isTurn(item.raw))
    if (turns.length > 0) {
      let members: Array<Buffer | null>
      try {
        members = await this.context.scripts.takeTurns(
          this.source.stream,
          turns.map((item) => item.raw[0].toString()),
        )
      } catch (error) {
        this.reportOutage(connectionError(`taking turns of ${this.source.label}`, error))
        for (const item of read) if (!isTurn(item.raw)) this.accept(item.raw, item.deliveries, item.turn)
        return
      }
      turns.forEach((item, index) => {
        const member = members[index]
        item.turn = true
        // A turn with nothing left to take (the waiting set was emptied behind its back) is only acked away.
        item.raw = [item.raw[0], member ? memberFields(member) : null]
      })
    }
    for (const item of read) this.accept(item.raw, item.deliveries, item.turn)
  }

  private accept(raw: RawEntry, deliveries: number, turn: boolean): void {
    // Tracked, so that close() waits for these acks as for the handlers' own.
    if (turn && raw[1] === null) {
      this.track(
        this.ack(raw[0].toString(), true).catch((error: unknown) =>
          this.options.onError(connectionError(`dropping an empty turn of ${this.source.label}`, error)),
        ),
      )
      return
    }
    // Core only decodes the body into a new value (bodiesReadOnly): no copy of it for the handler to own.
    const { message, entry } = readEntry(this.source.stream, raw, deliveries, this.options.bodiesReadOnly === true)
    if (!this.wanted(message, entry)) {
      this.track(
        this.ack(entry.entryId, turn).catch((error: unknown) => this.options.onError(connectionError(`skipping an entry of ${this.source.label}`, error))),
      )
      return
    }
    if (this.stopped) {
      this.track(this.releaseEntries([entry]))
      return
    }
    const delivery = new RedisDelivery(this, message, entry, turn)
    this.inflight.add(delivery)
    this.deliver(delivery)
  }

  /** Filters are emulated: an entry the subscription does not want is acknowledged for its group only. */
  private wanted(message: IncomingMessage, entry: RedisEntry): boolean {
    if (this.source.addressed && entry.group !== undefined && entry.group !== this.source.group) return false
    return filterMatches(this.source.filter, message.subject, message.headers)
  }

  /** Takes a delivery out of the held ones; false when it was settled already. */
  private markSettled(delivery: RedisDelivery): boolean {
    if (delivery.settled) return false
    delivery.settled = true
    this.inflight.delete(delivery)
    // Only when the loop would read: waking it to wait again cost a promise per settled message. Taken
    // before it is called: every later settle of the same turn called it again, and each resolve of
    // an already resolved promise goes through Node's promise-rejection hook (0.2–0.4 µs each).
    const wake = this.wakeLoop
    if (wake !== undefined && this.roomToRead()) {
      this.wakeLoop = undefined
      wake()
    }
    return true
  }

  /** {@link RedisDelivery.ack}: joins the acks of this turn; close() waits for their flush. */
  settleAck(delivery: RedisDelivery): Promise<void> {
    if (!this.markSettled(delivery)) return Promise.resolve()
    return this.ack(delivery.raw.entryId, delivery.turn)
  }

  /** {@link RedisDelivery.ackNow}: as {@link settleAck}, the flush's promise left to {@link flushAcks}, which reports its failure. */
  settleAckNow(delivery: RedisDelivery): void {
    if (!this.markSettled(delivery)) return
    this.acksNow++
    void this.ack(delivery.raw.entryId, delivery.turn)
  }

  /** {@link RedisDelivery.retry}: the retry copy into the delay set and the ack, in one script. */
  settleRetry(delivery: RedisDelivery, { delayMs, headers }: { delayMs: number; headers: Record<string, string> }): Promise<void> {
    const { source } = this
    return this.settle(
      delivery,
      () => {
        const copy = retryCopy(delivery.message, { delayMs, headers })
        const member = delayedMember(copy, source.addressed ? source.group : undefined, undefined, this.context.settings.wireLayout)
        return this.context.scripts.republish(
          source.stream,
          source.delayed,
          source.stream,
          source.group,
          delivery.raw.entryId,
          delayMs,
          member,
          source.deleteAcked ? '1' : '0',
          source.priority,
        )
      },
      true,
    )
  }

  /** {@link RedisDelivery.release}. */
  settleRelease(delivery: RedisDelivery): Promise<void> {
    return this.settle(delivery, () => this.releaseEntries([delivery.raw]), false)
  }

  private settle(delivery: RedisDelivery, action: () => Promise<unknown>, unsettledOnFailure: boolean): Promise<void> {
    if (!this.markSettled(delivery)) return Promise.resolve()
    this.pendingWork++
    return action().then(this.untrack, (error: unknown) => {
      this.untrack()
      if (unsettledOnFailure) {
        delivery.settled = false
        this.inflight.add(delivery)
      }
      throw connectionError(`settling entry ${delivery.raw.entryId} of ${this.source.label}`, error)
    })
  }

  private track(work: Promise<unknown>): void {
    this.pendingWork++
    work.then(this.untrack, this.untrack)
  }

  private readonly untrack = (): void => {
    this.pendingWork--
    if (this.pendingWork > 0) return
    const wake = this.whenNoPendingWork
    this.whenNoPendingWork = undefined
    wake?.()
  }

  private ack(entryId: string, turn = false): Promise<void> {
    if (turn) this.turnAcks.add(entryId)
    return this.acks.add(entryId)
  }

  private flushAcks(ids: string[]): Promise<void> {
    const { commands } = this.context
    const turns = this.turnAcks.size === 0 ? [] : ids.filter((id) => this.turnAcks.delete(id))
    const unawaited = this.acksNow
    this.acksNow = 0
    return Promise.all([
      commands.call(command(['XACK', this.source.stream, this.source.group], ids)),
      this.source.deleteAcked ? commands.call(command(['XDEL', this.source.stream], ids)) : undefined,
      // After the XACK is sent, on the same connection: a crash in between leaves a binding nobody reads, never a turn without its message.
      turns.length > 0 ? commands.call(command(['HDEL', `${this.source.stream}:taken`], turns)) : undefined,
    ]).then(
      () => undefined,
      (error: unknown) => {
        const failure = connectionError(`acknowledging ${ids.length} entr${ids.length === 1 ? 'y' : 'ies'} of ${this.source.label} (${ids[0]}…)`, error)
        // Those entries stay pending and come back after their lease, as after a failed ack().
        if (unawaited > 0) this.options.onError(failure)
        throw failure
      },
    )
  }

  private async releaseEntries(entries: RedisEntry[]): Promise<void> {
    if (entries.length === 0 || this.source.ephemeral) return
    const args: Array<string | number> = []
    for (const entry of entries) args.push(entry.entryId, entry.deliveryCount)
    await this.context.scripts.release(this.source.stream, this.source.group, this.name, args)
  }

  /** Resets the idle time of held entries (their lease), checked to still be this consumer's. */
  async touch(entryIds: string[]): Promise<void> {
    if (entryIds.length === 0) return
    await this.context.scripts.touch(this.source.stream, this.source.group, this.name, entryIds)
  }

  /**
   * Claims entries idle longer than this consumer's lease (or released by a consumer that closed),
   * within its free capacity. Runs from the read loop, at least every half lease (at most every second).
   */
  private async reclaim(): Promise<void> {
    const wanted = Math.min(reclaimBatch, this.capacity)
    this.nextReclaimAt = Date.now() + Math.max(100, Math.min(1000, Math.floor(this.leaseMs / 2)))
    this.moreToReclaim = false
    if (this.stopped || wanted <= 0) return
    const [, claimed] = await this.context.scripts.reclaim(this.source.stream, this.source.group, this.name, this.leaseMs, wanted, '-', '0')
    this.moreToReclaim = claimed.length >= wanted
    await this.acceptAll(claimed.map(([entryId, pairs, deliveries]) => ({ raw: [entryId, pairs], deliveries: Number(deliveries), turn: false })))
  }

  /** Ordered queues: waits for the single-active-consumer lock; on getting it, takes over what the last holder left. */
  private async tryToBecomeActive(): Promise<void> {
    let state = 0
    try {
      state = await this.context.scripts.holdLock(this.source.activeLock as string, this.name, this.leaseMs)
    } catch (error) {
      this.reportOutage(connectionError(`waiting to become the active consumer of ${this.source.label}`, error))
    }
    if (state === 0) {
      await this.sleep(Math.max(100, Math.min(1000, Math.floor(this.leaseMs / 3))))
      return
    }
    this.active = true
    this.takeoverCursor = '-'
  }

  /**
   * Claims, oldest first, every entry other consumers hold or released, whatever its idle time, before
   * reading new entries: the previous active consumer is gone (it lost the lock), and its entries come
   * first in key order. This one time it may go past `prefetch`.
   */
  private async takeOver(cursor: string): Promise<void> {
    const [next, claimed] = await this.context.scripts.reclaim(this.source.stream, this.source.group, this.name, 0, reclaimBatch, cursor, '1')
    await this.acceptAll(claimed.map(([entryId, pairs, deliveries]) => ({ raw: [entryId, pairs], deliveries: Number(deliveries), turn: false })))
    const nextCursor = next.toString()
    this.takeoverCursor = nextCursor === '' ? undefined : nextCursor
  }

  /**
   * Keeps the leases of held entries fresh, every third of a lease: all of them while this consumer
   * lives when it was given no `leaseMs`, else only those whose lease the handler extended.
   */
  private scheduleTouch(): void {
    if (this.stopped) return
    this.leaseTimer = setTimeout(
      () => {
        const now = Date.now()
        const ids = new Set<string>()
        for (const held of this.inflight) {
          if (!held.settled && (this.holdWhileAlive || held.holdUntil > now)) ids.add(held.raw.entryId)
        }
        void Promise.all([this.touch([...ids]), this.renewLock()])
          .catch((error: unknown) => this.reportOutage(connectionError(`renewing leases of ${this.source.label}`, error)))
          .finally(() => this.scheduleTouch())
      },
      Math.max(50, Math.min(10_000, Math.floor(this.leaseMs / 3))),
    )
  }

  /** Keeps the single-active-consumer lock; when another consumer got it meanwhile, stops reading. */
  private async renewLock(): Promise<void> {
    if (this.source.activeLock === undefined || !this.active) return
    const state = await this.context.scripts.holdLock(this.source.activeLock, this.name, this.leaseMs)
    if (state === 0) this.active = false
  }

  private reportOutage(error: Error): void {
    if (this.stopped || this.reported.has(error.message)) return
    this.reported.add(error.message)
    this.options.onError(error)
  }

  private sleep(ms: number): Promise<void> {
    return pause(ms, this.stopping.signal)
  }
}

/** The longest a stop waits for CLIENT UNBLOCK. */
const unblockWaitMs = 1_000
/** The longest a close waits for Redis to answer its settles and detach calls. */
const closeAnswerWaitMs = 5_000
