import { Readable } from 'node:stream'
import type { Logger } from '@anymq/core/spi'
import { Consumer, type Message, type MessagesStream } from '@platformatic/kafka'
import type { KafkaSettings } from './kafka-config.js'
import { type DriverBatch, type DriverConsumer, type DriverConsumerOptions, type DriverRecord, leaveWithin, type TopicPartitionOffset } from './kafka-driver.js'
import { headerText } from './kafka-header-text.js'
import { PartitionKeys, partitionKey } from './kafka-partition-key.js'
import { clientOptions } from './kafka-platformatic-client-options.js'
import { revokeBeforeRejoin } from './kafka-revoke.js'
import { receivedRecord, receiveHeader } from './kafka-wire.js'

/** Most records handed to one `onBatch` call; a batch is one partition's run of the stream's buffer. */
const maxBatchRecords = 500
/**
 * Fetch sizes of the Java consumer's defaults for a partition (`max.partition.fetch.bytes`, 1 MiB)
 * and a smaller cap per response than its 50 MiB: the library reads a response through a chain of
 * socket chunks, searching it from the first chunk on every read, so parsing a 20 MiB response costs
 * several times what four 1 MiB ones do (measured: 55–70 → 30–35 µs CPU per 1 KB record, c16).
 * A record batch larger than these is still returned whole (KIP-74).
 */
const fetchMaxBytesPerPartition = 1_048_576
const fetchMaxBytes = 4 * 1_048_576

/** The subscription's user data the library sends with each JoinGroup: none (the round-robin assignor reads none). */
const noUserData = Buffer.alloc(0)

/** The library consumer's `joinGroup`, in both its forms (a promise without a callback). */
type LibraryJoin = (options: { topics?: unknown }, callback?: (error: Error | null, memberId?: string) => void) => Promise<string> | undefined

/**
 * One group member. While nothing waits, records are handed over as the stream emits them ('data'):
 * a synchronous handler settles each inside the library's push, so the records of a fetch die young
 * (read in pull mode, a whole fetch response waited in the stream's buffer and outlived scavenges:
 * ~430 B promoted per record against the raw loop's ~90). A record the consumer cannot take at once
 * pauses the stream, and a pump hands over what waits (that record, a batch cut short, the buffer)
 * per partition, in order, before the stream flows again.
 */
export class PlatformaticConsumer implements DriverConsumer {
  private readonly consumer: Consumer
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined
  private stopping: Promise<void> | undefined
  private joined: (() => void) | undefined
  /**
   * Records read from the stream but not resolved (a batch cut short by `pause()` or by a rebalance):
   * handed over again, first. The stream has read past them and cannot go back, so dropping them
   * while their partition stays ours would skip them for good once a later offset is committed.
   */
  private leftover: Message<Buffer, Buffer, Buffer, Buffer>[] = []
  /** The partitions of the last assignment (`partitionKey`). */
  private assigned = new Set<string>()
  /** Joins seen so far; records read from the stream are stamped with it. */
  private joins = 0
  /** Per assigned partition, the join that (last) brought it here. */
  private readonly assignedAtJoin = new Map<string, number>()
  /** The join count when the leftover records were read from the stream. */
  private leftoverReadAt = 0
  /** A stream being opened (start, after a failure, or in place of one whose positions are stale). */
  private opening: Promise<void> | undefined
  /** Set when a join brings partitions while a stream is being opened: that one may hold stale positions too. */
  private openAgain = false
  /** Streams no longer read, closed once their replacement is open. */
  private detached: MessagesStream<Buffer, Buffer, Buffer, Buffer>[] = []
  private started = false
  private paused = false
  /** The stream is flowing and its records are handed over in `onData`; false while the pump has work. */
  private flowing = false
  /** Set while the pump reads the paused stream: the 'data' its `read()` emits is not a flowing record. */
  private pulling = false
  /** A record `onData` could not hand over at once, still with the consumer; the pump waits for it. */
  private handing: Promise<void> | undefined
  /** The one-record batch `onData` hands over, reused while each is taken at once. */
  private flowBatch: RecordBatch | undefined
  private readonly keys = new PartitionKeys()
  private wake: (() => void) | undefined
  private pumping: Promise<void> | undefined
  /** A join of our own after the library's rejoin failed (see `rejoinLater`). */
  private rejoinTimer: NodeJS.Timeout | undefined
  /** The library's own `joinGroup`, before the wrapper that keeps refused commits from calling it. */
  private readonly libraryJoin: LibraryJoin
  /** Set while the consumer commits before a rejoin: the library's member is inactive then, and the commit must go out all the same. */
  private revoking = false
  /** The join whose assignment the last revoke gave up (`joins` then). */
  private revokedAtJoin = -1
  private readonly rebalanceTimeoutMs: number

  constructor(
    settings: KafkaSettings,
    private readonly logger: Logger,
    private readonly options: DriverConsumerOptions,
    private readonly forget: () => void,
  ) {
    this.consumer = new Consumer({
      ...clientOptions(settings, 10),
      groupId: options.groupId,
      sessionTimeout: settings.sessionTimeoutMs,
      heartbeatInterval: settings.heartbeatIntervalMs,
      rebalanceTimeout: settings.rebalanceTimeoutMs,
      maxWaitTime: settings.maxWaitTimeMs,
      autocommit: false,
      autocreateTopics: false,
      maxBytes: fetchMaxBytes,
      maxBytesPerPartition: fetchMaxBytesPerPartition,
      // The library's one hook before each JoinGroup it sends (a rejoin after a failed heartbeat included).
      protocolsMetadata: () => this.beforeJoin(),
    })
    this.rebalanceTimeoutMs = settings.rebalanceTimeoutMs
    this.libraryJoin = this.consumer.joinGroup.bind(this.consumer) as LibraryJoin
    this.keepCommitsFromJoining()
    // What the library does with the group on its own (rejoins, failed heartbeats), for a debug logger:
    // a consumer that stops receiving without an error is otherwise a silent stall.
    const events = this.consumer as unknown as { on(event: string, listener: (payload?: { error?: Error; lastError?: Error }) => void): void }
    for (const event of ['consumer:heartbeat:error', 'consumer:heartbeat:stalled', 'consumer:rejoin', 'consumer:group:rebalance', 'client:broker:disconnect']) {
      events.on(event, (payload) => {
        const error = payload?.error ?? payload?.lastError
        this.logger.debug(`group '${options.groupId}': ${event}${error ? `: ${error.message}` : ''}`)
      })
    }
    // The library emits 'error' when a rejoin after a failed heartbeat fails (a broker gone, or the
    // pool closed by stop()); with no listener Node throws it out of the user's process.
    this.consumer.on('error', (error: Error) => {
      if (this.stopping) return
      this.options.onCrash(error, true)
      this.rejoinLater()
    })
    this.consumer.on('consumer:group:join', (payload) => {
      const assignment = new Map<string, number[]>()
      for (const { topic, partitions } of payload.assignments ?? []) assignment.set(topic, [...(assignment.get(topic) ?? []), ...partitions])
      const previous = this.assigned
      this.assigned = new Set([...assignment].flatMap(([topic, partitions]) => partitions.map((partition) => partitionKey(topic, partition))))
      this.joins++
      let gained = false
      for (const key of this.assigned) {
        if (previous.has(key)) continue
        this.assignedAtJoin.set(key, this.joins)
        gained = true
      }
      for (const key of this.assignedAtJoin.keys()) if (!this.assigned.has(key)) this.assignedAtJoin.delete(key)
      // A partition that moved is read by its new owner from the committed offset; one that stayed
      // keeps its unresolved records (what the stream refetches of them is recognised as handed out).
      this.leftover = this.leftover.filter((record) => this.assigned.has(partitionKey(record.topic, record.partition)))
      options.onAssigned(assignment)
      // Listeners run in order and this one was registered before any stream's, so no record of the
      // old stream is read after this point.
      if (gained && this.started) this.replaceStream()
      this.joined?.()
    })
  }

  /**
   * Before a JoinGroup, a member that owns partitions revokes them (`onRevoking`): its handlers finish
   * and it commits what they handled while the group, preparing the rebalance, still accepts this
   * generation's commits. Once the JoinGroup is sent the group may complete the join at once and refuse
   * them; the next owner of a partition then read again what was handled here since the last commit.
   *
   * Once per assignment, not before every JoinGroup attempt. A member the group dropped (a handler
   * that held the event loop past the session timeout) has its commit refused with UNKNOWN_MEMBER_ID,
   * on which the library forgets its member id; its JoinGroup then gets MEMBER_ID_REQUIRED and a new
   * id, which the library answers with another attempt at once, and so another revoke and commit, which
   * forgot that id too: the member spun there (~700 joins a second) and never read again.
   */
  private async beforeJoin(): Promise<Buffer> {
    const onRevoking = this.options.onRevoking
    if (onRevoking && this.assigned.size > 0 && !this.stopping && this.revokedAtJoin !== this.joins) {
      this.revokedAtJoin = this.joins
      this.revoking = true
      try {
        await revokeBeforeRejoin(onRevoking, this.rebalanceTimeoutMs, this.logger, this.options.groupId)
      } finally {
        this.revoking = false
      }
    }
    return noUserData
  }

  /**
   * A partition this member gains must be read from the group's committed offset. The library's
   * stream keeps a position for every partition of the topic (the fallback offset from when it was
   * made, or where it stopped when the partition last left), and a fetch started in the window of a
   * rejoin, or answered after it, reads the gained partition from there (platformatic/kafka#223 and
   * #368 closed some of these paths, not all). From a position past the committed offset, the records
   * between were handed to no one and the next commit skipped them. So a join that brings partitions
   * gets a new stream, which reads every assigned partition from its committed offset; the old one,
   * and what it buffered, is dropped.
   */
  private replaceStream(): void {
    if (this.stopping) return
    this.detach()
    this.openAgain = true
    this.opening ??= this.openLoop()
  }

  /** Stops reading the current stream; it is closed once its replacement is open. */
  private detach(): void {
    this.stopFlowing()
    const stream = this.stream
    this.stream = undefined
    if (stream) this.detached.push(stream)
  }

  /** Pauses the stream's 'data' (Node's pause: the library's own also stops its fetch loop). */
  private stopFlowing(): void {
    if (!this.flowing) return
    this.flowing = false
    if (this.stream) Readable.prototype.pause.call(this.stream)
  }

  private async openLoop(): Promise<void> {
    try {
      while (this.openAgain && !this.stopping) {
        this.openAgain = false
        try {
          await this.openStream()
        } catch (error) {
          if (this.stopping) return
          this.options.onCrash(error as Error, true)
          this.openAgain = true
          await new Promise((resolve) => setTimeout(resolve, 1_000).unref())
          continue
        }
        // Another join brought partitions while this one opened: its positions may be stale as well.
        if (this.openAgain) this.detach()
      }
    } finally {
      this.opening = undefined
      // Closed after the replacement opened: the topics stay subscribed, so this does not rejoin the group.
      this.closeDetached()
      this.wakeUp()
    }
  }

  private closeDetached(): Promise<void> {
    const streams = this.detached
    this.detached = []
    return Promise.all(
      streams.map((stream) =>
        stream.close().catch((error: unknown) => this.logger.debug(`closing a replaced stream of group '${this.options.groupId}': ${String(error)}`)),
      ),
    ).then(() => {})
  }

  async start(): Promise<void> {
    const joined = new Promise<void>((resolve) => {
      this.joined = resolve
    })
    try {
      await this.openStream()
      await joined
    } catch (error) {
      await this.stop()
      throw error
    }
    // The stream made by the first join reads the committed offsets of what that join assigned.
    this.started = true
    this.pumping = this.pump()
  }

  private async openStream(): Promise<void> {
    const stream = await this.consumer.consume({
      topics: this.options.topics,
      mode: 'committed',
      fallbackMode: this.options.fromBeginning ? 'earliest' : 'latest',
      autocommit: false,
    })
    if (this.stopping) {
      await stream.close().catch(() => {})
      return
    }
    this.stream = stream
    const failed = (error?: Error) => {
      if (this.stopping || this.stream !== stream) return
      this.stopFlowing()
      this.stream = undefined
      this.options.onCrash(error ?? new Error('the consumer stream closed'), true)
      this.wakeUp()
      // A new stream rejoins if needed and refetches from the committed offsets.
      setTimeout(() => this.replaceStream(), 1_000).unref()
    }
    // on, not once: a second error after the first would otherwise have no listener and be thrown.
    stream.on('error', failed)
    stream.once('close', () => failed())
    stream.on('data', (record: Message<Buffer, Buffer, Buffer, Buffer>) => this.onData(stream, record))
    // Paused until the pump has handed over what waits (Node's pause: the stream still fetches into its
    // buffer, up to its high-water mark, as it did in pull mode).
    Readable.prototype.pause.call(stream)
  }

  /**
   * A record of the flowing stream, handed over at once. One the consumer does not take in this turn
   * (its read-ahead is full, a hold limit, a pause) pauses the stream; the pump waits for it.
   */
  private onData(stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>, message: Message<Buffer, Buffer, Buffer, Buffer>): void {
    // The pump's own read() emits 'data' too; a replaced stream's records are dropped, as its buffer is.
    if (this.pulling || stream !== this.stream) return
    if (!this.flowing) {
      // Not expected (the stream is paused whenever the pump has work); put back rather than lost.
      stream.unshift(message)
      return
    }
    const readAt = this.joins
    if ((this.assignedAtJoin.get(this.keys.of(message.topic, message.partition)) ?? Number.POSITIVE_INFINITY) > readAt) return
    const batch = this.flowBatch ?? new RecordBatch(this.batchRunning, this.batchPause)
    this.flowBatch = undefined
    const record = toRecord(message)
    batch.take(record, this.consumer.generationId)
    const handling = this.options.onBatch(batch)
    if (batch.resolvedUpTo >= record.offset) {
      this.flowBatch = batch
      return
    }
    this.stopFlowing()
    this.handing = handling.then(async () => {
      if (batch.resolvedUpTo >= record.offset || this.stopping) return
      // As a run cut short in handOver: handed over again, before what the stream buffered since.
      this.leftover = [message, ...this.leftover]
      this.leftoverReadAt = readAt
      if (!this.paused && batch.generation === this.consumer.generationId) await new Promise((resolve) => setTimeout(resolve, 100))
    })
    this.wakeUp()
  }

  private readonly batchRunning = (generation: number | undefined): boolean =>
    !this.stopping && (generation === undefined || generation === this.consumer.generationId)

  private readonly batchPause = (): (() => void) => {
    this.paused = true
    this.stopFlowing()
    return () => {
      this.paused = false
      this.wakeUp()
    }
  }

  /**
   * The library answers a commit refused for a rebalance or a stale generation by joining the group
   * (`joinGroup({})` from its commit), besides the join its heartbeat starts on the same news. The two
   * are not one: a commit sent before a join but answered after it (held up in the library's lookups of
   * the coordinator and metadata, which retry while a broker is gone) made the member join once more,
   * and a join by the group's leader begins a new rebalance. Even with no commit sent while joining,
   * the chaos suite once saw the leader re-join every second for 7 s ("Leader … re-joining group during
   * Stable", 10–20 ms after its assignment). Such a join is refused here, and the commit fails (the
   * consumer tries it again); the heartbeat rejoins, and `rejoinLater` when the library gave up. The
   * library's other caller, `consume()`, passes topics.
   */
  private keepCommitsFromJoining(): void {
    const joinGroup: LibraryJoin = (options, callback) => {
      if (options?.topics !== undefined) {
        this.logger.debug(`group '${this.options.groupId}': a stream joins the group`)
        return this.libraryJoin(options, callback)
      }
      const refused = new Error('a refused commit does not rejoin the group: its heartbeat does')
      this.logger.debug(`group '${this.options.groupId}': ${refused.message}`)
      if (!callback) return Promise.reject(refused)
      process.nextTick(callback, refused)
    }
    Object.assign(this.consumer, { joinGroup })
  }

  /**
   * After its rejoin failed (the coordinator's broker killed, its successor not elected within the
   * library's retries) the library sends no heartbeat and tries no join again: the member is out of
   * the group while its stream reads on. A refused commit used to be what made it join again, and no
   * commit is sent while the member is inactive, so the driver joins by itself, once a second, until
   * a join succeeds.
   */
  private rejoinLater(): void {
    if (this.rejoinTimer || this.stopping) return
    this.rejoinTimer = setTimeout(() => {
      this.rejoinTimer = undefined
      if (this.stopping || this.consumer.isActive()) return
      this.libraryJoin({})?.catch((error: unknown) => {
        if (this.stopping) return
        this.logger.debug(`group '${this.options.groupId}': joining again failed: ${String(error)}`)
        this.rejoinLater()
      })
    }, 1_000)
    this.rejoinTimer.unref()
  }

  private wakeUp(): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  private async pump(): Promise<void> {
    while (!this.stopping) {
      if (this.handing) {
        await this.handing
        this.handing = undefined
        continue
      }
      const stream = this.stream
      if (this.paused || !stream) {
        await new Promise<void>((resolve) => {
          this.wake = resolve
        })
        continue
      }
      let records = this.leftover
      let readAt = this.leftoverReadAt
      this.leftover = []
      if (records.length === 0) {
        records = []
        readAt = this.joins
        this.pulling = true
        try {
          for (let record = stream.read(); record !== null; record = records.length < maxBatchRecords ? stream.read() : null) records.push(record)
        } finally {
          this.pulling = false
        }
      }
      if (records.length === 0) {
        // Nothing waits: the stream's records go to onData until it needs the pump again.
        this.flowing = true
        Readable.prototype.resume.call(stream)
        await new Promise<void>((resolve) => {
          this.wake = resolve
        })
        continue
      }
      await this.handOver(records, readAt)
    }
  }

  /**
   * Splits records into runs of one partition, keeping their order, and hands each run over. A run
   * is judged by the current assignment, not by the generation the library stamped on it: a fetch
   * answered just after a rejoin carries the new generation but continues from the old position,
   * so dropping the older run before it (stamped with the old generation) left a gap that the next
   * commit skipped (the chaos suite lost ~3,700 of 100,000 records that way). But a run read before
   * its partition left and came back (`readAt`, the joins seen when it was read) is from the old
   * position: handed over, it would start the partition past its committed offset.
   */
  private async handOver(records: Message<Buffer, Buffer, Buffer, Buffer>[], readAt: number): Promise<void> {
    let start = 0
    while (start < records.length && !this.stopping) {
      const first = records[start] as Message<Buffer, Buffer, Buffer, Buffer>
      let end = start + 1
      while (end < records.length && records[end]?.partition === first.partition && records[end]?.topic === first.topic) end++
      const run = records.slice(start, end)
      if ((this.assignedAtJoin.get(partitionKey(first.topic, first.partition)) ?? Number.POSITIVE_INFINITY) <= readAt) {
        const generation = this.consumer.generationId
        const unresolved = await this.handBatch(run, generation)
        if (unresolved.length > 0 && !this.stopping) {
          // Cut short by pause() or by a rebalance: these and the rest are handed over again, in order.
          this.leftover = [...unresolved, ...records.slice(end)]
          this.leftoverReadAt = readAt
          // Neither paused nor rebalanced (the consumer gave up on the batch): do not spin on it.
          if (!this.paused && generation === this.consumer.generationId) await new Promise((resolve) => setTimeout(resolve, 100))
          return
        }
      }
      start = end
    }
  }

  /** Returns the records that were not resolved. */
  private async handBatch(run: Message<Buffer, Buffer, Buffer, Buffer>[], generation: number | undefined): Promise<Message<Buffer, Buffer, Buffer, Buffer>[]> {
    const first = run[0] as Message<Buffer, Buffer, Buffer, Buffer>
    let resolvedUpTo = -1
    const records = run.map(toRecord)
    await this.options.onBatch({
      topic: first.topic,
      partition: first.partition,
      records,
      resolve: (offset) => {
        resolvedUpTo = offset
      },
      // The library heartbeats on its own timer.
      heartbeat: async () => {},
      isRunning: () => !this.stopping && (generation === undefined || generation === this.consumer.generationId),
      pause: this.batchPause,
    })
    // Offsets rise through a run: what is left is a tail.
    let unresolved = records.length
    while (unresolved > 0 && (records[unresolved - 1] as DriverRecord).offset > resolvedUpTo) unresolved--
    return unresolved === records.length ? [] : run.slice(unresolved)
  }

  async commit(offsets: readonly TopicPartitionOffset[]): Promise<void> {
    if (this.stopping || offsets.length === 0) return
    // Not while the group is being joined (the library's member is inactive from JoinGroup to the end
    // of SyncGroup): such a commit waits behind the parked JoinGroup and is refused with
    // REBALANCE_IN_PROGRESS (see keepCommitsFromJoining). The consumer commits again after the join.
    // Except the revoke step's commit (`beforeJoin`): the member is inactive then, but its JoinGroup is not sent yet.
    if (!this.consumer.isActive() && !this.revoking) return
    await this.consumer.commit({ offsets: offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset: BigInt(offset), leaderEpoch: -1 })) })
    this.options.onCommitted(offsets)
  }

  pauseAll(): void {
    this.paused = true
    this.flowing = false
    // The library's pause: its fetch loop stops too.
    this.stream?.pause()
  }

  stop(force = false): Promise<void> {
    this.stopping ??= (async () => {
      clearTimeout(this.rejoinTimer)
      this.wakeUp()
      // A stream being opened in place of another is closed with the rest (the group is left only
      // once every stream is closed); one that opens later closes itself (openStream).
      if (this.opening) await Promise.race([this.opening, new Promise((resolve) => setTimeout(resolve, 5_000).unref())])
      this.detach()
      await leaveWithin(
        this.closeDetached().then(() => this.consumer.close(force)),
        this.options.groupId,
        this.logger,
      )
      await this.pumping
    })().finally(this.forget)
    return this.stopping
  }
}

/** The batch of one record that `onData` hands over. */
class RecordBatch implements DriverBatch {
  topic = ''
  partition = 0
  readonly records: DriverRecord[] = []
  resolvedUpTo = -1
  generation: number | undefined

  constructor(
    private readonly running: (generation: number | undefined) => boolean,
    readonly pause: () => () => void,
  ) {}

  take(record: DriverRecord, generation: number | undefined): void {
    this.topic = record.topic
    this.partition = record.partition
    this.records[0] = record
    this.resolvedUpTo = -1
    this.generation = generation
  }

  resolve(offset: number): void {
    this.resolvedUpTo = offset
  }

  // The library heartbeats on its own timer.
  heartbeat(): Promise<void> {
    return Promise.resolve()
  }

  isRunning(): boolean {
    return this.running(this.generation)
  }
}

function toRecord(message: Message<Buffer, Buffer, Buffer, Buffer>): DriverRecord {
  const value = message.value ?? Buffer.alloc(0)
  const record = receivedRecord(
    message.topic,
    message.partition,
    Number(message.offset),
    message.key === undefined || message.key === null ? undefined : message.key.toString(),
    // The client's Buffer as it is (a Uint8Array): a second view per record cost ~0.3 µs of a 100 B consume.
    value,
    Number(message.timestamp),
    message,
  )
  // The library's own array of pairs, indexed: no iterator and no [name, value] array per header.
  const entries = message.headerEntries
  for (let index = 0; index < entries.length; index++) {
    const entry = entries[index] as [Buffer, Buffer | undefined]
    const header = entry[1]
    receiveHeader(record, headerText(entry[0]), header === undefined || header === null ? '' : headerText(header))
  }
  return record
}
