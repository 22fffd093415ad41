import { randomUUID } from 'node:crypto'
import { integer, nameCheck, ofType, validateOptions } from '@anymq/core/spi'
import type { RedisClient, RedisMulti } from './database-types.js'
import { BaseInbox, type InboxOutcome } from './inbox.js'

export interface RedisInboxOptions {
  /** An `ioredis` client. */
  redis: RedisClient
  consumer: string
  /** Key prefix. Default `anymq:inbox:`; keys are `<prefix><consumer>:<message id>`. */
  prefix?: string
  /** How long a processed id is remembered. Default 7 days. */
  ttlMs?: number
  /** How long one delivery may hold an id while its handler runs; a crashed consumer's hold ends after it. Default 60 s. */
  leaseMs?: number
}

const releaseScript = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end"

/** Thrown when another delivery of the same message is being processed right now; anymq retries it later. */
export class InboxBusyError extends Error {
  readonly isRetryable = true
  constructor(consumer: string, messageId: string) {
    super(`[anymq] [outbox] message '${messageId}' is being processed by another consumer of '${consumer}'; retried later`)
    this.name = 'InboxBusyError'
  }
}

/**
 * The inbox on Redis, for handlers without a database. A delivery first takes the id
 * (`SET … NX PX leaseMs`); a second delivery of a processed id is skipped, one of an id being
 * processed is retried later. The handler gets a `multi()`: Redis commands it queues there are applied
 * atomically with the "processed" mark. Effects outside Redis (an HTTP call) are not in that
 * transaction: a crash between them and the mark runs the handler again after the lease.
 */
export class RedisInbox<Multi extends RedisMulti = RedisMulti> extends BaseInbox<Multi> {
  private readonly redis: RedisClient
  private readonly prefix: string
  private readonly ttlMs: number
  private readonly leaseMs: number

  constructor(options: RedisInboxOptions) {
    validateOptions(
      options,
      { redis: ofType('object'), consumer: nameCheck, prefix: ofType('string'), ttlMs: integer(1), leaseMs: integer(1) },
      'redis inbox options',
      'outbox',
    )
    super(options.consumer)
    this.redis = options.redis
    this.prefix = options.prefix ?? 'anymq:inbox:'
    this.ttlMs = options.ttlMs ?? 7 * 24 * 3_600_000
    this.leaseMs = options.leaseMs ?? 60_000
  }

  protected async run<R>(messageId: string, work: (multi: Multi) => R | Promise<R>, ttlMs: number | undefined): Promise<InboxOutcome<R>> {
    const key = `${this.prefix}${this.consumer}:${messageId}`
    const token = `processing:${randomUUID()}`
    const taken = await this.redis.set(key, token, 'PX', this.leaseMs, 'NX')
    if (taken !== 'OK') {
      const value = await this.redis.get(key)
      if (value === 'done') return { duplicate: true }
      if (value !== null) throw new InboxBusyError(this.consumer, messageId)
      return this.run(messageId, work, ttlMs)
    }
    try {
      const multi = this.redis.multi() as Multi
      const result = await work(multi)
      multi.set(key, 'done', 'PX', ttlMs ?? this.ttlMs)
      const replies = await multi.exec()
      const failed = replies?.find(([error]) => error !== null)
      if (!replies || failed) throw failed?.[0] ?? new Error('the Redis transaction was discarded')
      return { duplicate: false, result }
    } catch (error) {
      await this.redis.eval(releaseScript, 1, key, token).catch(() => {})
      throw error
    }
  }

  /** Redis forgets processed ids by their TTL (`ttlMs`); nothing to clean. */
  async cleanup(): Promise<number> {
    return 0
  }
}

/**
 * An inbox on Redis; see {@link RedisInbox}. Name your client's transaction type to get its full
 * command set in the handler: `redisInbox<ChainableCommander>({ redis, consumer })` with ioredis.
 */
export function redisInbox<Multi extends RedisMulti = RedisMulti>(options: RedisInboxOptions): RedisInbox<Multi> {
  return new RedisInbox<Multi>(options)
}
