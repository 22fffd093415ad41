import type { Anymq, Capabilities } from '@anymq/core'
import { ConfigError } from '@anymq/core'
import { type AdapterFactory, encodeOutgoing, ofType, prepareOutgoing, queueBrokerOptionsOf, validateBodySync, validateOptions } from '@anymq/core/spi'
import type { PostgresPool, PostgresQueryable, SqliteDatabase } from './database-types.js'
import {
  type BrokerLimits,
  type OutboxDestination,
  type OutboxPublishOptions,
  type OutboxQueueOptions,
  type OutboxSendOptions,
  type OutboxTarget,
  type OutboxTopicOptions,
  publishChecks,
  queueTarget,
  resolveTarget,
  sendChecks,
  topicTarget,
} from './outbox-destination.js'
import { OutboxRelay, type OutboxRelayOptions } from './outbox-relay.js'
import { type OutboxDeadLetter, type OutboxRecord, toRecord } from './outbox-row.js'
import type { OutboxStore } from './outbox-store.js'
import { PostgresOutboxStore, type PostgresOutboxStoreOptions } from './postgres-outbox-store.js'
import { SqliteOutboxStore, type SqliteOutboxStoreOptions } from './sqlite-outbox-store.js'

/**
 * Limits `add()` enforces when no broker is named: the smallest size limit among anymq's brokers
 * (SQS, 256 KiB), and no delay, priority or dedupe.
 */
export const portableCapabilities: Capabilities = {
  delay: false,
  ordering: 'none',
  priority: false,
  expiry: false,
  dedupe: false,
  persistence: true,
  replay: false,
  nativeDeadLetter: false,
  maxMessageBytes: 256 * 1024,
  leaseExpiry: false,
  leaseExtension: false,
  topicFilters: { subject: false, headers: false },
}

export interface OutboxOptions<Tx> {
  store: OutboxStore<Tx>
  /**
   * The broker the relay will publish to, so that `add()` enforces its limits (size, delay, priority,
   * dedupe) before commit: a connection (`mq`) or an adapter (`import { adapter } from '@anymq/rabbitmq'`).
   * Default: {@link portableCapabilities}.
   */
  broker?: Pick<Anymq, 'adapter' | 'capabilities'> | Pick<AdapterFactory, 'name' | 'capabilities' | 'queueBrokerOptions'>
}

type AddOptions = OutboxSendOptions & OutboxPublishOptions

/**
 * The transactional outbox. `add()` validates and encodes a message exactly as `queue.send()` would
 * and writes it into the outbox table inside your transaction: commit, and the relay publishes it;
 * roll back, and nothing is ever published. See {@link OutboxRelay} for how rows reach the broker.
 */
export class Outbox<Tx> {
  readonly store: OutboxStore<Tx>
  private readonly limits: BrokerLimits
  private readonly targets = new Map<string, OutboxTarget<unknown>>()

  constructor(options: OutboxOptions<Tx>) {
    validateOptions(options, { store: ofType('object', 'an outbox store'), broker: ofType('object', 'a connection or an adapter') }, 'outbox options', 'outbox')
    if (!options.store)
      throw new ConfigError([{ field: 'outbox options.store', message: 'required: a PostgresOutboxStore or SqliteOutboxStore' }], { adapter: 'outbox' })
    this.store = options.store
    const broker = options.broker
    this.limits = {
      adapter: broker === undefined ? 'outbox' : 'adapter' in broker ? broker.adapter : broker.name,
      capabilities: broker?.capabilities ?? portableCapabilities,
      queueBrokerOptions: broker === undefined ? undefined : 'name' in broker ? (broker.queueBrokerOptions ?? {}) : queueBrokerOptionsOf(broker),
    }
  }

  /** Creates the outbox, dead-letter and inbox tables if missing. Safe to run on every start. */
  migrate(): Promise<void> {
    return this.store.migrate()
  }

  /** A queue to add messages for, with its schema and codec (declare it as the consumer does). */
  queue<T = unknown>(name: string, options?: OutboxQueueOptions<T>): OutboxQueue<T, Tx> {
    return new OutboxQueue<T, Tx>(this, queueTarget(name, options, this.limits))
  }

  /** A topic to add messages for. */
  topic<T = unknown>(name: string, options?: OutboxTopicOptions<T>): OutboxTopic<T, Tx> {
    return new OutboxTopic<T, Tx>(this, topicTarget(name, options, this.limits))
  }

  /**
   * Validates and encodes `body`, then writes it into the outbox within `tx` (your transaction, not
   * committed by this call). Rejects with `ValidationError`, `SerializationError`,
   * `MessageTooLargeError`, `UnsupportedFeatureError` or `ConfigError` before writing anything, so
   * your transaction can roll back; or with your database's own error.
   */
  async add<T>(tx: Tx, destination: OutboxDestination<T>, body: T, options: AddOptions = {}): Promise<{ id: string }> {
    const target = resolveTarget(destination, this.limits, this.targets)
    this.checkAddOptions(target, options)
    const message = await prepareOutgoing(body, options, target.context)
    await this.store.insert(tx, [toRecord(message, target.destination)])
    return { id: message.id }
  }

  /**
   * Adds many messages in one statement. Every body is validated and encoded first: one bad body
   * rejects the call before anything is written.
   */
  async addBatch<T>(
    tx: Tx,
    destination: OutboxDestination<T>,
    bodies: readonly T[],
    options: AddOptions | ((body: T, index: number) => AddOptions) = {},
  ): Promise<{ ids: string[] }> {
    const target = resolveTarget(destination, this.limits, this.targets)
    const records: OutboxRecord[] = []
    for (const [index, body] of bodies.entries()) {
      const each = typeof options === 'function' ? options(body, index) : options
      this.checkAddOptions(target, each)
      records.push(toRecord(await prepareOutgoing(body, each, target.context), target.destination))
    }
    await this.store.insert(tx, records)
    return { ids: records.map((record) => record.id) }
  }

  /**
   * The synchronous {@link add}, for SQLite inside `db.transaction(() => …)`. The schema must validate
   * synchronously (zod, valibot and arktype do unless you add async refinements).
   */
  addSync<T>(tx: Tx, destination: OutboxDestination<T>, body: T, options: AddOptions = {}): { id: string } {
    const insertSync = this.store.insertSync
    if (!insertSync)
      throw new ConfigError([{ field: 'addSync', message: `the ${this.store.dialect} store is asynchronous; use await outbox.add()` }], { adapter: 'outbox' })
    const target = resolveTarget(destination, this.limits, this.targets)
    this.checkAddOptions(target, options)
    const { context } = target
    const value = context.schema ? validateBodySync(context.schema, body, `message for ${context.where}`, context.adapter) : body
    const message = encodeOutgoing(value, options, context)
    insertSync.call(this.store, tx, [toRecord(message, target.destination)])
    return { id: message.id }
  }

  /**
   * Starts a relay in this process: it publishes committed rows through `mq` until `stop()`. Run one
   * per process, or as many as you like across processes; see {@link OutboxRelay}.
   */
  startRelay(options: OutboxRelayOptions): OutboxRelay {
    const relay = new OutboxRelay(this.store, options)
    relay.start()
    return relay
  }

  /** Rows not published yet (dead letters not counted). */
  pendingCount(): Promise<number> {
    return this.store.pendingCount()
  }

  /** The rows the relay gave up on: list them, replay them. */
  deadLetters(): OutboxDeadLetters {
    const store = this.store
    return {
      list: (options = {}) => store.listDeadLetters(options.limit ?? 100, options.after),
      replay: (options = {}) => store.replayDeadLetters(options.positions),
    }
  }

  private checkAddOptions(target: OutboxTarget<unknown>, options: AddOptions): void {
    if (target.kind === 'queue') validateOptions(options, sendChecks, `outbox.add options for queue '${target.name}'`, 'outbox')
    else validateOptions(options, publishChecks, `outbox.add options for topic '${target.name}'`, 'outbox')
  }
}

/** The outbox's dead letters: rows published unsuccessfully too often, with their last error. */
export interface OutboxDeadLetters {
  /** Oldest first; page with `after` (the last position you saw). */
  list(options?: { limit?: number; after?: string }): Promise<OutboxDeadLetter[]>
  /** Puts them back into the outbox as new rows (attempts reset); all of them when `positions` is absent. Resolves with how many. */
  replay(options?: { positions?: readonly string[] }): Promise<number>
}

/** A queue the outbox writes for; `add()` is typed by its schema. */
export class OutboxQueue<T, Tx> {
  readonly name: string
  constructor(
    private readonly outbox: Outbox<Tx>,
    readonly target: OutboxTarget<T>,
  ) {
    this.name = target.name
  }
  add(tx: Tx, body: T, options?: OutboxSendOptions): Promise<{ id: string }> {
    return this.outbox.add(tx, this.target, body, options)
  }
  addBatch(tx: Tx, bodies: readonly T[], options?: OutboxSendOptions | ((body: T, index: number) => OutboxSendOptions)): Promise<{ ids: string[] }> {
    return this.outbox.addBatch(tx, this.target, bodies, options)
  }
  addSync(tx: Tx, body: T, options?: OutboxSendOptions): { id: string } {
    return this.outbox.addSync(tx, this.target, body, options)
  }
}

/** A topic the outbox writes for; `add()` is typed by its schema. */
export class OutboxTopic<T, Tx> {
  readonly name: string
  constructor(
    private readonly outbox: Outbox<Tx>,
    readonly target: OutboxTarget<T>,
  ) {
    this.name = target.name
  }
  add(tx: Tx, body: T, options?: OutboxPublishOptions): Promise<{ id: string }> {
    return this.outbox.add(tx, this.target, body, options)
  }
  addBatch(tx: Tx, bodies: readonly T[], options?: OutboxPublishOptions | ((body: T, index: number) => OutboxPublishOptions)): Promise<{ ids: string[] }> {
    return this.outbox.addBatch(tx, this.target, bodies, options)
  }
  addSync(tx: Tx, body: T, options?: OutboxPublishOptions): { id: string } {
    return this.outbox.addSync(tx, this.target, body, options)
  }
}

/** An outbox on PostgreSQL: `add(client, …)` with the `pg` client that runs your transaction. */
export function postgresOutbox(options: PostgresOutboxStoreOptions & Pick<OutboxOptions<PostgresQueryable>, 'broker'>): Outbox<PostgresQueryable> {
  const { broker, ...storeOptions } = options
  return new Outbox({ store: new PostgresOutboxStore(storeOptions), broker })
}

/** An outbox on SQLite: `add(db, …)` / `addSync(db, …)` with the `better-sqlite3` Database inside your transaction. */
export function sqliteOutbox(options: SqliteOutboxStoreOptions & Pick<OutboxOptions<SqliteDatabase>, 'broker'>): Outbox<SqliteDatabase> {
  const { broker, ...storeOptions } = options
  return new Outbox({ store: new SqliteOutboxStore(storeOptions), broker })
}

export type { PostgresPool }
