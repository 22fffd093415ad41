import {
  type ConnectionStateTracker,
  type Delivery,
  filterMatches,
  type IncomingMessage,
  type Logger,
  type OutgoingMessage,
  retryCopy,
  type TopicFilter,
  type TransportConsumeOptions,
  type TransportConsumer,
} from '@anymq/core/spi'
import { type DeliveryHost, type Item, KafkaDelivery } from './kafka-delivery.js'
import type { DriverBatch, DriverConsumer, DriverRecord, KafkaDriver, TopicPartitionOffset } from './kafka-driver.js'
import { wrapError } from './kafka-errors.js'
import { PartitionKeys, partitionKey } from './kafka-partition-key.js'
import { PartitionTracker } from './kafka-partition-tracker.js'
import { ReadyQueue } from './kafka-ready-queue.js'
import { dueAtOf, fromRecord } from './kafka-wire.js'

/** What one anymq consumer reads and how. */
export interface ConsumerPlan {
  groupId: string
  /** The queue's or topic's own Kafka topic. */
  mainTopic: string
  /**
   * The group's redelivery topic: retries are republished there with a due time and read back by
   * this group only. `undefined` (ephemeral subscriptions, reply inboxes): retries wait in memory.
   */
  retryTopic: string | undefined
  /** Start from the earliest offset where the group has none (queues, replay); else the plan pinned offsets. */
  fromBeginning: boolean
  filter: TopicFilter | undefined
  /** Commit offsets (durable groups); ephemeral groups and inboxes never need them. */
  commits: boolean
  /** After leaving the group on close (delete an ephemeral group or an inbox topic). */
  cleanup?: () => Promise<void>
}

export interface ConsumerContext {
  driver: KafkaDriver
  logger: Logger
  /** Hears of crashes the client restarts from, and of assignments (it works again). */
  connectionState: ConnectionStateTracker
  /** Publishes a retry copy to a redelivery topic, due at `dueAt`. */
  republish(topic: string, message: OutgoingMessage, dueAt: number): Promise<void>
}

/** Records of a redelivery topic held in memory until due, per consumer; beyond it the partition pauses. */
const holdLimit = 1_000
const commitDelayMs = 50
/**
 * Records read ahead per consumer beyond the `prefetch` handed out: a fetched batch is queued (its
 * offsets tracked, so commits stay behind them) and handed out as handlers finish. Taking records
 * off the client's buffer early lets it send the next fetch while these are handled, instead of
 * after (a fetch of 1 KB records brings ~2,700 of them on 3 partitions). Fetching waits while this
 * many records, or this many bytes of bodies, are queued.
 */
const readAheadRecords = 2_000
const readAheadBytes = 4 * 1_048_576
const releaseDelayMs = 500

/**
 * One anymq consumer = one member of a Kafka consumer group. Fetched records are handed to core in
 * partition order up to `prefetch` unsettled; fetching waits beyond it. Offsets are committed when
 * they and every earlier one of the partition are settled. Retries go to the group's redelivery
 * topic (the partition is never blocked); records read back from it wait in memory until due.
 */
export class KafkaConsumer implements TransportConsumer, DeliveryHost {
  private readonly member: DriverConsumer
  private readonly trackers = new Map<string, PartitionTracker>()
  private assigned = new Set<string>()
  private readonly readyItems = new ReadyQueue<KafkaDelivery>()
  private readonly timers = new Set<NodeJS.Timeout>()
  private resumeHeld: Array<() => void> = []
  private capacityWaiters: Array<() => void> = []
  private inflight = 0
  /** Resolved when nothing handed out is unfinished (`inflight` back to 0). */
  private idleWaiters: Array<() => void> = []
  private held = 0
  private stopping = false
  /** From a rebalance's revoke step to the next assignment: nothing more is handed out (see `revoke`). */
  private revoking = false
  private closed = false
  private closing: Promise<void> | undefined
  private commitTimer: NodeJS.Timeout | undefined
  private committing: Promise<void> | undefined
  private commitAgain = false
  private readonly keys = new PartitionKeys()

  constructor(
    private readonly context: ConsumerContext,
    private readonly plan: ConsumerPlan,
    private readonly options: TransportConsumeOptions,
    private readonly deliver: (delivery: Delivery) => void,
  ) {
    this.member = context.driver.consumer({
      groupId: plan.groupId,
      topics: plan.retryTopic ? [plan.mainTopic, plan.retryTopic] : [plan.mainTopic],
      fromBeginning: plan.fromBeginning,
      onBatch: (batch) => this.onBatch(batch),
      onRevoking: () => this.revoke(),
      onAssigned: (assignment) => {
        context.connectionState.working()
        this.onAssigned(assignment)
      },
      onCommitted: (offsets) => this.onCommitted(offsets),
      onCrash: (error, restarting) => {
        if (this.closed) return
        context.connectionState.failed(error, restarting)
        options.onError(wrapError(error, `consumer of group '${plan.groupId}'${restarting ? ' (reconnecting)' : ''}`))
      },
    })
  }

  /** Resolves once the member joined the group and got its partitions. */
  async start(): Promise<void> {
    try {
      await this.member.start()
    } catch (error) {
      this.closed = true
      throw error
    }
  }

  async stop(): Promise<void> {
    if (this.stopping) return
    this.stopping = true
    this.member.pauseAll()
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
    // Held and ready records stay unsettled: their offsets are not committed, another member reads them.
    this.readyItems.clear()
    this.wakeCapacity()
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown()
    return this.closing
  }

  private async shutdown(): Promise<void> {
    await this.stop()
    if (!this.closed && this.plan.commits) {
      clearTimeout(this.commitTimer)
      this.commitTimer = undefined
      await Promise.race([this.commitNow(), sleep(5_000)])
    }
    this.closed = true
    await this.member.stop().catch((error: unknown) => this.context.logger.debug(`leaving group '${this.plan.groupId}': ${String(error)}`))
    await this.plan.cleanup?.().catch((error: unknown) => this.context.logger.debug(`cleaning up after group '${this.plan.groupId}': ${String(error)}`))
  }

  /** The connection was dropped as in a crash: settle nothing, commit nothing. */
  abandon(): void {
    this.closed = true
    void this.stop()
    clearTimeout(this.commitTimer)
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const wake of waiters) wake()
  }

  private onBatch(batch: DriverBatch): Promise<void> {
    return this.takeFrom(batch, 0) ?? settled
  }

  /**
   * Takes the batch's records from `start` on, in this turn: no promise while nothing waits (the
   * platformatic driver hands over one record per call). Returns one only when the read-ahead is full,
   * for the rest, taken once there is room.
   */
  private takeFrom(batch: DriverBatch, start: number): Promise<void> | undefined {
    const key = this.keys.of(batch.topic, batch.partition)
    const fromRetryTopic = batch.topic === this.plan.retryTopic
    // A fetch answered after a rebalance can carry a partition that moved to another member: its new
    // owner reads it from the committed offset, handing it out here too would break per-key order.
    if (!this.assigned.has(key)) return undefined
    // The driver is told the last offset taken once per stretch, not per record (kafkajs makes a
    // Long per call): before any wait, pause or early return, and at the end.
    let taken = -1
    // Looked up once per batch, and again after a wait (a rebalance may have dropped it meanwhile).
    let tracker = this.trackers.get(key)
    const records = batch.records
    // Indexed: no iterator object per batch.
    for (let index = start; index < records.length; index++) {
      const record = records[index] as DriverRecord
      if (this.stopping || !batch.isRunning()) {
        if (taken >= 0) batch.resolve(taken)
        return undefined
      }
      tracker ??= this.trackerFrom(key, batch, record.offset)
      if (record.offset < tracker.next) {
        // Already handed out (refetched after a rejoin while still in flight here).
        taken = record.offset
        continue
      }
      const message = fromRecord(record)
      if (!fromRetryTopic && !filterMatches(this.plan.filter, message.subject, message.headers)) {
        tracker.skip(record.offset)
        taken = record.offset
        this.scheduleCommit()
        continue
      }
      if (fromRetryTopic) {
        const wait = dueAtOf(record) - Date.now()
        if (wait > 0) {
          if (this.held >= holdLimit) {
            if (taken >= 0) batch.resolve(taken)
            this.resumeHeld.push(batch.pause())
            return undefined
          }
          tracker.track(record.offset)
          taken = record.offset
          this.hold(new KafkaDelivery(this, message, record.raw, tracker, record.offset), wait)
          continue
        }
      }
      if (this.readAheadFull) {
        if (taken >= 0) batch.resolve(taken)
        this.drain()
        return this.takeWhenRoom(batch, index)
      }
      tracker.track(record.offset)
      taken = record.offset
      const delivery = new KafkaDelivery(this, message, record.raw, tracker, record.offset)
      // Handed out at once while a handler is free and nothing waits before it: queued until the whole
      // batch (up to 500) was, every record also went through core's sequencer queue, and the batch's
      // deliveries were all alive at once (c16, 1 KB: ~9.4 -> ~6.5 µs of CPU per record).
      if (this.readyItems.length === 0 && this.inflight < this.options.prefetch && !this.revoking) this.handOut(delivery)
      else this.readyItems.push(delivery)
    }
    if (taken >= 0) batch.resolve(taken)
    this.drain()
    return undefined
  }

  /** The rest of a batch from `index` on, once the read-ahead has room (the record there is looked at again). */
  private async takeWhenRoom(batch: DriverBatch, index: number): Promise<void> {
    if (!(await this.waitForCapacity(batch))) return
    await this.takeFrom(batch, index)
  }

  /** The partition's tracker; a new one starting at `offset` when it has none. */
  private trackerFrom(key: string, batch: DriverBatch, offset: number): PartitionTracker {
    let tracker = this.trackers.get(key)
    if (!tracker) {
      tracker = new PartitionTracker(batch.topic, batch.partition, offset)
      this.trackers.set(key, tracker)
    }
    return tracker
  }

  /** At least `prefetch` records are always read ahead, whatever their size. */
  private get readAheadFull(): boolean {
    const ready = this.readyItems
    return ready.length >= Math.max(this.options.prefetch, readAheadRecords) || (ready.bytes >= readAheadBytes && ready.length >= this.options.prefetch)
  }

  /** Half of the read-ahead is free (of records and of bytes). */
  private get readAheadHalfFree(): boolean {
    const ready = this.readyItems
    return ready.length <= Math.max(this.options.prefetch, readAheadRecords) / 2 && (ready.bytes <= readAheadBytes / 2 || ready.length < this.options.prefetch)
  }

  private async waitForCapacity(batch: DriverBatch): Promise<boolean> {
    while (this.readAheadFull) {
      if (this.stopping || !batch.isRunning()) return false
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 1_000)
        this.capacityWaiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
      try {
        await batch.heartbeat()
      } catch {
        // The group is rebalancing: leave the rest of the batch unresolved, it is fetched again.
        return false
      }
    }
    return !this.stopping && batch.isRunning()
  }

  private wakeCapacity(): void {
    const waiters = this.capacityWaiters
    this.capacityWaiters = []
    for (const wake of waiters) wake()
  }

  private hold(item: KafkaDelivery, waitMs: number): void {
    this.held++
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      this.held--
      this.readyItems.push(item)
      this.drain()
      if (this.held < holdLimit / 2 && this.resumeHeld.length > 0) {
        const resumes = this.resumeHeld
        this.resumeHeld = []
        for (const resume of resumes) resume()
      }
    }, waitMs)
    this.timers.add(timer)
  }

  private later(action: () => void, ms: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      action()
    }, ms)
    this.timers.add(timer)
  }

  private drain(): void {
    while (!this.stopping && !this.revoking && this.readyItems.length > 0 && this.inflight < this.options.prefetch)
      this.handOut(this.readyItems.shift() as KafkaDelivery)
    // Woken at half, not at the first free slot: else the batch waits again after every record, a
    // promise and a timer per message.
    if (this.capacityWaiters.length > 0 && this.readAheadHalfFree) this.wakeCapacity()
  }

  private handOut(delivery: KafkaDelivery): void {
    this.inflight++
    this.deliver(delivery)
  }

  /** @internal Called once per delivery by `KafkaDelivery`. */
  finish(item: Item, settled: boolean): void {
    this.inflight--
    if (settled && item.tracker) {
      item.tracker.settle(item.offset)
      this.scheduleCommit()
    }
    if (this.inflight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters
      this.idleWaiters = []
      for (const wake of waiters) wake()
    }
    this.drain()
  }

  /**
   * The member is about to rejoin its group and so to lose its partitions (some may come back): hand
   * out nothing more, let what runs finish, and commit it, so that a partition's next owner starts right
   * after the last record handled here rather than at the last timed commit (the Java client and
   * kafkajs's autocommit do the same on revoke). What was read ahead and not handed out stays
   * uncommitted: its partition's owner reads it.
   */
  private async revoke(): Promise<void> {
    if (!this.plan.commits || this.closed) return
    this.revoking = true
    if (this.inflight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve))
    // Dropped as in a crash meanwhile: commit nothing.
    if (this.closed) return
    clearTimeout(this.commitTimer)
    this.commitTimer = undefined
    await this.commitNow()
  }

  /** @internal */
  giveBack(item: KafkaDelivery): void {
    if (this.stopping) return
    this.later(() => {
      this.readyItems.unshift(item.again())
      this.drain()
    }, releaseDelayMs)
  }

  /** @internal */
  async retry(item: Item, { delayMs, headers }: { delayMs: number; headers: Record<string, string> }): Promise<void> {
    const copy = retryCopy(item.message, { delayMs, headers })
    const retryTopic = this.plan.retryTopic
    if (retryTopic === undefined) {
      if (this.stopping) return
      // Nothing durable behind an ephemeral group or an inbox: the retry waits in memory.
      this.later(() => {
        this.readyItems.push(new KafkaDelivery(this, asIncoming(copy), item.raw, undefined, -1))
        this.drain()
      }, delayMs)
      return
    }
    await this.context.republish(retryTopic, copy, Date.now() + delayMs)
  }

  private onAssigned(assignment: ReadonlyMap<string, readonly number[]>): void {
    const assigned = new Set<string>()
    for (const [topic, partitions] of assignment) for (const partition of partitions) assigned.add(partitionKey(topic, partition))
    this.assigned = assigned
    this.revoking = false
    // Read ahead from a partition that moved: its new owner reads it from the committed offset.
    this.readyItems.retain((item) => !item.tracker || assigned.has(partitionKey(item.tracker.topic, item.tracker.partition)))
    for (const [key, tracker] of this.trackers) {
      // A partition that moved to another member: what is still in flight here is no longer ours to commit.
      if (!assigned.has(key)) this.trackers.delete(key)
      else tracker.committed = undefined
    }
    this.scheduleCommit()
    this.drain()
  }

  private onCommitted(offsets: readonly TopicPartitionOffset[]): void {
    for (const { topic, partition, offset } of offsets) {
      const tracker = this.trackers.get(partitionKey(topic, partition))
      if (tracker && (tracker.committed === undefined || offset > tracker.committed)) tracker.committed = offset
    }
  }

  private scheduleCommit(delayMs = commitDelayMs): void {
    if (!this.plan.commits || this.closed || this.commitTimer) return
    this.commitTimer = setTimeout(() => {
      this.commitTimer = undefined
      void this.commitNow()
    }, delayMs)
  }

  private commitNow(): Promise<void> {
    if (this.committing) {
      this.commitAgain = true
      return this.committing
    }
    this.committing = (async () => {
      do {
        this.commitAgain = false
        const offsets: TopicPartitionOffset[] = []
        for (const [key, tracker] of this.trackers) {
          if (!this.assigned.has(key)) continue
          const point = tracker.commitPoint
          if (tracker.committed === undefined || point > tracker.committed) offsets.push({ topic: tracker.topic, partition: tracker.partition, offset: point })
        }
        if (offsets.length === 0) return
        try {
          await this.member.commit(offsets)
        } catch (error) {
          this.context.logger.debug(`commit of group '${this.plan.groupId}' failed, trying again: ${String(error)}`)
          this.scheduleCommit(500)
          return
        }
        // The driver may skip a commit while it rejoins; the confirmation then never comes: try again.
        if (offsets.some(({ topic, partition, offset }) => (this.trackers.get(partitionKey(topic, partition))?.committed ?? -1) < offset)) {
          this.scheduleCommit(1_000)
        }
      } while (this.commitAgain && !this.closed)
    })().finally(() => {
      this.committing = undefined
    })
    return this.committing
  }
}

const settled = Promise.resolve()

function asIncoming(message: OutgoingMessage): IncomingMessage {
  return {
    id: message.id,
    body: message.body,
    contentType: message.contentType,
    headers: message.headers,
    key: message.key,
    correlationId: message.correlationId,
    replyTo: message.replyTo,
    timestamp: message.timestamp,
    subject: message.subject,
    attempt: message.attempt,
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}
