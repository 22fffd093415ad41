import { type BlobStore, ConnectionError } from '@anymq/core'
import { ofType, required, validateOptions } from '@anymq/core/spi'

/** The part of an `ioredis` client the store uses. */
export interface RedisBlobClient {
  set(key: string, value: Buffer): Promise<unknown>
  getBuffer(key: string): Promise<Buffer | null>
  del(...keys: string[]): Promise<number>
  scan(cursor: string, matchToken: 'MATCH', pattern: string, countToken: 'COUNT', count: number): Promise<[cursor: string, keys: string[]]>
}

export interface RedisBlobStoreOptions {
  /** An `ioredis` client. */
  redis: RedisBlobClient
  /** Prefix of the Redis keys, before the claim check's own key. Default `anymq:blob:`. */
  keyPrefix?: string
}

/**
 * A claim-check {@link BlobStore} on Redis: one string value per body. Redis holds everything in
 * memory and a single value is capped at 512 MB (`proto-max-bulk-len`): fit for bodies of a few MB
 * that must be shared by processes already using Redis; prefer S3 or a shared filesystem for many
 * large bodies. Errors reaching Redis are `ConnectionError` (retryable).
 */
export class RedisBlobStore implements BlobStore {
  private readonly redis: RedisBlobClient
  private readonly keyPrefix: string

  constructor(options: RedisBlobStoreOptions) {
    validateOptions(options, { redis: required(ofType('object', 'an ioredis client')), keyPrefix: ofType('string') }, 'redis blob store options', 'claim-check')
    this.redis = options.redis
    this.keyPrefix = options.keyPrefix ?? 'anymq:blob:'
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    await this.call(`write '${key}'`, () => this.redis.set(this.keyPrefix + key, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)))
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    const value = await this.call(`read '${key}'`, () => this.redis.getBuffer(this.keyPrefix + key))
    return value === null ? undefined : new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  }

  async delete(key: string): Promise<void> {
    await this.call(`delete '${key}'`, () => this.redis.del(this.keyPrefix + key))
  }

  async list(prefix: string): Promise<string[]> {
    const pattern = `${escapeGlob(this.keyPrefix + prefix)}*`
    const keys: string[] = []
    let cursor = '0'
    do {
      const [next, page] = await this.call(`list '${prefix}'`, () => this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000))
      for (const key of page) keys.push(key.slice(this.keyPrefix.length))
      cursor = next
    } while (cursor !== '0')
    return [...new Set(keys)]
  }

  private async call<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      throw new ConnectionError(`could not ${what} in Redis: ${(error as Error).message}`, { adapter: 'claim-check', cause: error })
    }
  }
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}

/** A {@link RedisBlobStore}. */
export function redisBlobStore(options: RedisBlobStoreOptions): RedisBlobStore {
  return new RedisBlobStore(options)
}
