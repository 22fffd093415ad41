import { randomUUID } from 'node:crypto'
import {
  CloseDeadline,
  type Delivery,
  filterMatches,
  type Logger,
  type OutgoingMessage,
  retryCopy,
  type TopicFilter,
  type TransportConsumeOptions,
  type TransportConsumer,
} from '@anymq/core/spi'
import type { _Record, KinesisClient, Shard } from '@aws-sdk/client-kinesis'
import type { KinesisStartAt } from './kinesis-config.js'
import { isResourceMissing, wrapError } from './kinesis-errors.js'
import type { Checkpoint, Lease, LeaseStore } from './kinesis-lease.js'
import { decodeRecord, type RecordRouting } from './kinesis-record-format.js'
import { ShardProgress } from './kinesis-shard-progress.js'
import { ShardReader } from './kinesis-shard-reader.js'
import type { KinesisStreams, StreamRole } from './kinesis-streams.js'

/** Records read per GetRecords call when the handlers have room (they wait in memory for it). */
const readAhead = 100
/**
 * Longest a stopped consumer waits for Kinesis or DynamoDB to answer what its close needs (the
 * GetRecords calls in flight, its lease round, releasing its leases): an endpoint that stops answering
 * would hold each for the client's 30 s request timeout and its retries, and `mq.close()` with it. A
 * lease not released expires after `leaseMs`; records not checkpointed come again (at-least-once).
 */
const closeWaitMs = 5_000

export interface GroupConsumerSettings {
  client: KinesisClient
  streams: KinesisStreams
  stream: string
  /** The queue or topic the stream stands for (tagged on it for list()); none for an inbox. */
  role?: { kind: StreamRole; name: string }
  /** The consumer group: records addressed to another group are skipped. */
  group: string
  leases: LeaseStore
  /** Where a shard without a lease row starts. */
  startFrom: 'earliest' | 'latest'
  startAt: KinesisStartAt | undefined
  filter: TopicFilter | undefined
  leaseMs: number
  pollMs: number
  /** Puts a retry copy back on the stream, addressed to this group and held until due. */
  republish(message: OutgoingMessage, routing: RecordRouting): Promise<void>
  /** Drops what belongs to this consumer alone (an ephemeral group's leases, an inbox's stream). */
  cleanup?: () => Promise<void>
  /** Where a close that stopped waiting for the endpoint says so. */
  logger: Logger
}

interface OwnedShard {
  lease: Lease
  progress: ShardProgress
  reader: ShardReader
  /** Lease writes of one shard run one after another: each is conditional on the counter the last one left. */
  writes: Promise<unknown>
  lost: boolean
  /** Deliveries of this shard handed to core and not settled yet. */
  inFlight: number
  /** Another worker asked for the lease: no more reading; released once `inFlight` is 0. */
  handingOff: boolean
}

/**
 * One worker of a consumer group, as the KCL runs one: it keeps a lease per shard it reads in the
 * group's lease store, renews them every third of the lease time (writing the checkpoint with them),
 * takes free and expired leases and, when the group's shards are unevenly spread, steals one from the
 * busiest worker. A killed worker's shards are taken over once its leases stop being renewed for
 * `leaseMs`; the new reader resumes after the last checkpoint, so records done but not yet
 * checkpointed come again (at-least-once). A closed shard's children are read only after it.
 */
export class GroupConsumer implements TransportConsumer {
  private readonly workerId = randomUUID()
  private readonly owned = new Map<string, OwnedShard>()
  /** Shards whose take is in flight: never claimed twice at once. */
  private readonly claiming = new Set<string>()
  /** Last counter seen of every other worker's lease and when it was first seen: expiry by our own clock. */
  private readonly observed = new Map<string, { counter: number; since: number }>()
  private readonly held = new Set<NodeJS.Timeout>()
  private readonly waiting: { shard: OwnedShard; record: _Record }[] = []
  private inFlight = 0
  private running = true
  private closed: Promise<void> | undefined
  private ticker: NodeJS.Timeout | undefined
  private ticking: Promise<void> = Promise.resolve()
  private shardList: Shard[] = []
  private shardsListedAt = 0
  /** Set when the stream or lease table was found missing: the next round provisions them again. */
  private vanished = false
  private readonly createdAt = Date.now()
  private readonly closeDeadline: CloseDeadline

  constructor(
    private readonly settings: GroupConsumerSettings,
    private readonly options: TransportConsumeOptions,
    private readonly deliver: (delivery: Delivery) => void,
  ) {
    this.closeDeadline = new CloseDeadline(closeWaitMs, (what, ms) =>
      settings.logger.warn(
        `kinesis consumer of stream '${settings.stream}' (group '${settings.group}'): the endpoint did not answer ${what} within ${ms} ms of the close; not waiting longer (a lease not released expires after leaseMs, and records not checkpointed come again)`,
      ),
    )
  }

  /** Resolves once the lease rows exist (so the group's start position is fixed) and the first leases are taken. */
  async start(): Promise<void> {
    try {
      await this.settings.streams.ensure(this.settings.stream, this.settings.role)
      await this.settings.leases.open()
      await this.tick()
    } catch (error) {
      this.running = false
      throw wrapError(error, `consuming stream '${this.settings.stream}' as group '${this.settings.group}'`)
    }
    this.schedule()
  }

  async stop(): Promise<void> {
    this.running = false
    this.closeDeadline.start()
    if (this.ticker) clearTimeout(this.ticker)
    for (const timer of this.held) clearTimeout(timer)
    this.held.clear()
    this.waiting.length = 0
    for (const shard of this.owned.values()) shard.reader.stop()
    await this.closeDeadline.wait('its reads', Promise.all([...this.owned.values()].map((shard) => shard.reader.finished)))
  }

  close(): Promise<void> {
    this.closed ??= this.shutDown(true)
    return this.closed
  }

  /** Stops at once, writing nothing: the leases expire as a crashed worker's would. */
  terminate(): Promise<void> {
    this.closed ??= this.shutDown(false)
    return this.closed
  }

  private async shutDown(graceful: boolean): Promise<void> {
    await this.stop()
    await this.closeDeadline.wait(
      'its lease round',
      this.ticking.catch(() => {}),
    )
    if (graceful) {
      await this.closeDeadline.wait(
        'releasing its leases',
        Promise.all(
          [...this.owned.values()].map((shard) =>
            this.write(shard, () => this.settings.leases.release(shard.lease, shard.progress.current())).catch((error) =>
              this.options.onError(wrapError(error, `releasing the lease of shard ${shard.lease.shardId}`)),
            ),
          ),
        ),
      )
    }
    this.owned.clear()
    if (graceful && this.settings.cleanup) {
      await this.closeDeadline.wait(
        'cleaning up',
        this.settings.cleanup().catch((error) => this.options.onError(wrapError(error, 'cleaning up'))),
      )
    }
  }

  private schedule(): void {
    if (!this.running) return
    this.ticker = setTimeout(
      () => {
        this.ticking = this.tick()
          .catch((error) => {
            if (isResourceMissing(error)) this.vanish()
            this.options.onError(wrapError(error, `coordinating the leases of group '${this.settings.group}'`))
          })
          .finally(() => this.schedule())
      },
      Math.max(50, Math.floor(this.settings.leaseMs / 3)),
    )
  }

  /**
   * The stream or the lease table is gone (deleted by another process, an emulator restarted empty):
   * the shards held are dropped and the next round provisions both again, as a queue that vanished
   * is provisioned again on SQS. Records done and not yet checkpointed may come again (at-least-once).
   */
  private vanish(): void {
    for (const shard of [...this.owned.values()]) this.lose(shard)
    this.observed.clear()
    this.shardList = []
    this.settings.streams.forget(this.settings.stream)
    this.vanished = true
  }

  /** One round of the lease protocol: discover shards, renew what we hold, take what is ours to take. */
  private async tick(): Promise<void> {
    if (this.vanished) {
      await this.settings.streams.ensure(this.settings.stream, this.settings.role)
      await this.settings.leases.open()
      this.vanished = false
    }
    const now = Date.now()
    if (now - this.shardsListedAt >= this.settings.leaseMs || this.shardList.length === 0) {
      this.shardList = await this.settings.streams.shards(this.settings.stream)
      this.shardsListedAt = now
    }
    let leases = await this.settings.leases.list()
    const known = new Set(leases.map((lease) => lease.shardId))
    let created = false
    for (const shard of this.shardList) {
      const shardId = shard.ShardId as string
      if (known.has(shardId)) continue
      const parents = [shard.ParentShardId, shard.AdjacentParentShardId].filter((id): id is string => id !== undefined)
      await this.settings.leases.create({
        shardId,
        owner: undefined,
        counter: 0,
        checkpoint: this.initialCheckpoint(shardId, parents),
        parentShardIds: parents,
      })
      created = true
    }
    if (created) leases = await this.settings.leases.list()
    if (!this.running) return
    for (const lease of leases) {
      const shard = this.owned.get(lease.shardId)
      if (shard && lease.owner === this.workerId && lease.handoffTo !== undefined && lease.handoffTo !== this.workerId) this.handOver(shard)
    }
    await this.renewAll()
    await this.take(leases, Date.now())
  }

  private initialCheckpoint(shardId: string, parents: string[]): Checkpoint {
    // A child of a split or merge starts at its beginning: its parents were read to their ends first.
    if (parents.length > 0 && this.shardList.some((shard) => parents.includes(shard.ShardId as string))) return { kind: 'trim-horizon' }
    const startAt = this.settings.startAt
    if (startAt && 'timestamp' in startAt) return { kind: 'at-timestamp', timestamp: startAt.timestamp }
    const sequenceNumber = startAt && 'sequenceNumbers' in startAt ? startAt.sequenceNumbers[shardId] : undefined
    if (sequenceNumber !== undefined) return { kind: 'at-sequence', sequenceNumber }
    return this.settings.startFrom === 'earliest' ? { kind: 'trim-horizon' } : { kind: 'at-timestamp', timestamp: this.createdAt }
  }

  private async renewAll(): Promise<void> {
    await Promise.all([...this.owned.values()].map((shard) => this.renew(shard)))
  }

  /** Renews a held lease with the current checkpoint; a refused renewal means another worker has it now. */
  private async renew(shard: OwnedShard): Promise<boolean> {
    if (shard.lost) return false
    // The lease is read and replaced inside the serialized write, so the next write sees its counter.
    const renewed = await this.write(shard, async () => {
      const result = await this.settings.leases.renew(shard.lease, shard.progress.current())
      if (result) shard.lease = result
      return result
    }).catch((error) => {
      this.options.onError(wrapError(error, `renewing the lease of shard ${shard.lease.shardId}`))
      return null
    })
    if (renewed === null) return true
    if (renewed === undefined) {
      this.lose(shard)
      return false
    }
    if (renewed.checkpoint.kind === 'shard-end') {
      // Read to its end: give it up so the children, which wait for it, can be taken.
      shard.lost = true
      await this.write(shard, () => this.settings.leases.release(shard.lease, renewed.checkpoint)).catch(() => {})
      if (this.owned.get(shard.lease.shardId) === shard) this.owned.delete(shard.lease.shardId)
    }
    return true
  }

  /**
   * Another worker asked for this shard: stop reading it and drop what was read and not handed out
   * (the checkpoint stays before it), let the records in handlers finish, then release the lease with
   * the checkpoint past them, so the next owner starts where this one ended.
   */
  private handOver(shard: OwnedShard): void {
    if (shard.handingOff || shard.lost) return
    shard.handingOff = true
    shard.reader.stop()
    for (let index = this.waiting.length - 1; index >= 0; index--) if (this.waiting[index]?.shard === shard) this.waiting.splice(index, 1)
    this.finishHandOver(shard)
  }

  private finishHandOver(shard: OwnedShard): void {
    if (!shard.handingOff || shard.lost || shard.inFlight > 0 || !this.running) return
    shard.lost = true
    if (this.owned.get(shard.lease.shardId) === shard) this.owned.delete(shard.lease.shardId)
    void this.write(shard, () => this.settings.leases.release(shard.lease, shard.progress.current())).catch((error) =>
      this.options.onError(wrapError(error, `handing over the lease of shard ${shard.lease.shardId}`)),
    )
  }

  private lose(shard: OwnedShard): void {
    shard.lost = true
    shard.reader.stop()
    if (this.owned.get(shard.lease.shardId) === shard) this.owned.delete(shard.lease.shardId)
    for (let index = this.waiting.length - 1; index >= 0; index--) if (this.waiting[index]?.shard === shard) this.waiting.splice(index, 1)
  }

  private write<T>(shard: OwnedShard, operation: () => Promise<T>): Promise<T> {
    const next = shard.writes.then(operation, operation)
    shard.writes = next.catch(() => {})
    return next
  }

  private async take(leases: Lease[], now: number): Promise<void> {
    const done = new Set(leases.filter((lease) => lease.checkpoint.kind === 'shard-end').map((lease) => lease.shardId))
    const available = leases.filter(
      (lease) =>
        lease.checkpoint.kind !== 'shard-end' && lease.parentShardIds.every((parent) => done.has(parent) || !leases.some((other) => other.shardId === parent)),
    )
    const expired = (lease: Lease) => {
      const seen = this.observed.get(lease.shardId)
      if (!seen || seen.counter !== lease.counter) {
        this.observed.set(lease.shardId, { counter: lease.counter, since: now })
        return lease.owner === undefined
      }
      return lease.owner === undefined || now - seen.since >= this.settings.leaseMs
    }
    const others = available.filter((lease) => !this.owned.has(lease.shardId) && !this.claiming.has(lease.shardId))
    const free = others.filter(expired)
    const load = new Map<string, Lease[]>()
    for (const lease of others) {
      if (lease.owner === undefined || free.includes(lease) || lease.owner === this.workerId) continue
      load.set(lease.owner, [...(load.get(lease.owner) ?? []), lease])
    }
    const target = Math.ceil(available.length / (load.size + 1))
    let wanted = target - this.owned.size
    const claims: Lease[] = free.slice(0, Math.max(0, wanted))
    wanted -= claims.length
    if (wanted > 0) {
      // Nothing free: ask the busiest worker, when it holds more than its share, to hand one lease over.
      // Taken outright, its records still in that worker's handlers would run here too, one key twice at once.
      const busiest = [...load.values()].sort((a, b) => b.length - a.length)[0]
      const wantedLease = busiest && busiest.length > target ? (busiest[0] as Lease) : undefined
      if (wantedLease && wantedLease.handoffTo !== this.workerId) {
        await this.settings.leases
          .requestHandoff(wantedLease, this.workerId)
          .catch((error) => this.options.onError(wrapError(error, `asking for the lease of shard ${wantedLease.shardId}`)))
      }
    }
    await Promise.all(claims.map((lease) => this.claim(lease)))
  }

  private async claim(lease: Lease): Promise<void> {
    this.claiming.add(lease.shardId)
    try {
      const taken = await this.settings.leases.take(lease, this.workerId)
      if (!taken) return
      if (!this.running || this.owned.has(lease.shardId)) {
        await this.settings.leases.release(taken, taken.checkpoint)
        return
      }
      this.own(taken)
    } catch (error) {
      this.options.onError(wrapError(error, `taking the lease of shard ${lease.shardId}`))
    } finally {
      this.claiming.delete(lease.shardId)
    }
  }

  private own(lease: Lease): void {
    const progress = new ShardProgress(lease.checkpoint)
    const shard: OwnedShard = {
      lease,
      progress,
      writes: Promise.resolve(),
      lost: false,
      inFlight: 0,
      handingOff: false,
      reader: undefined as unknown as ShardReader,
    }
    shard.reader = new ShardReader(this.settings.client, this.settings.stream, lease.shardId, lease.checkpoint, {
      pollMs: this.settings.pollMs,
      // Reads ahead of the handlers by up to `readAhead` records per shard, so a batch pays for its
      // lease check; nothing beyond `prefetch` is delivered.
      room: () =>
        this.waiting.some((entry) => entry.shard === shard) || this.inFlight >= this.options.prefetch
          ? 0
          : Math.max(readAhead, this.options.prefetch - this.inFlight),
      accept: async (records) => {
        // The lease is confirmed before a batch is handed over, so a worker that lost it to a steal
        // stops instead of delivering what the new owner will deliver too.
        if (!(await this.renew(shard)) || !this.running) return false
        for (const record of records) this.admit(shard, record)
        return true
      },
      ended: () => {
        progress.end()
        void this.renew(shard)
      },
      onError: this.options.onError,
    })
    this.owned.set(lease.shardId, shard)
  }

  /** A record read: skipped when it is another group's or filtered out, held when not yet due, else delivered. */
  private admit(shard: OwnedShard, record: _Record): void {
    const sequenceNumber = record.SequenceNumber as string
    shard.progress.read(sequenceNumber)
    const { message, routing } = decodeRecord(record)
    if ((routing.group !== undefined && routing.group !== this.settings.group) || !filterMatches(this.settings.filter, message.subject, message.headers)) {
      shard.progress.done(sequenceNumber)
      return
    }
    const wait = (routing.notBefore ?? 0) - Date.now()
    if (wait > 0) {
      const timer = setTimeout(() => {
        this.held.delete(timer)
        this.enqueue(shard, record)
      }, wait)
      this.held.add(timer)
      return
    }
    this.enqueue(shard, record)
  }

  private enqueue(shard: OwnedShard, record: _Record): void {
    if (!this.running || shard.lost || shard.handingOff) return
    this.waiting.push({ shard, record })
    this.drain()
  }

  private drain(): void {
    while (this.running && this.inFlight < this.options.prefetch && this.waiting.length > 0) {
      const { shard, record } = this.waiting.shift() as { shard: OwnedShard; record: _Record }
      if (shard.lost || shard.handingOff) continue
      this.inFlight++
      shard.inFlight++
      this.deliver(this.delivery(shard, record))
    }
    if (this.inFlight < this.options.prefetch) for (const shard of this.owned.values()) shard.reader.poke()
  }

  private delivery(shard: OwnedShard, record: _Record): Delivery {
    const sequenceNumber = record.SequenceNumber as string
    const { message } = decodeRecord(record)
    let settled = false
    const settle = () => {
      if (settled) return false
      settled = true
      this.inFlight--
      shard.inFlight--
      return true
    }
    return {
      message,
      raw: { ...record, shardId: shard.lease.shardId },
      ack: async () => {
        if (!settle()) return
        shard.progress.done(sequenceNumber)
        this.finishHandOver(shard)
        this.drain()
      },
      retry: async ({ delayMs, headers }) => {
        if (settled) return
        await this.settings.republish(retryCopy(message, { delayMs, headers }), { group: this.settings.group, notBefore: Date.now() + delayMs })
        if (!settle()) return
        shard.progress.done(sequenceNumber)
        this.finishHandOver(shard)
        this.drain()
      },
      release: async () => {
        if (!settle()) return
        this.finishHandOver(shard)
        // A record cannot go back onto a shard: it is offered again here, or, once this worker
        // stopped, stays unchecked-pointed so the next owner of the shard reads it.
        if (this.running && !shard.lost && !shard.handingOff) {
          const timer = setTimeout(
            () => {
              this.held.delete(timer)
              if (this.running && !shard.lost && !shard.handingOff) {
                this.waiting.unshift({ shard, record })
                this.drain()
              }
            },
            Math.min(100, this.settings.pollMs),
          )
          this.held.add(timer)
        } else this.drain()
      },
      extendLease: async () => {},
    }
  }
}
