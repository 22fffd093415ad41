import { randomUUID } from 'node:crypto'
import type { BlobStore } from './blob-store.js'
import type { Capabilities } from './capabilities.js'
import { Unrecoverable } from './errors.js'
import { integer, type OptionCheck, objectOf, ofType, required, withMembers } from './options-validation.js'
import type { IncomingMessage, OutgoingMessage } from './spi/transport.js'
import { wireHeaders } from './spi/wire-headers.js'

/** `queue(name, { claimCheck })`: bodies too large for the broker travel through a blob store. */
export interface ClaimCheckOptions {
  store: BlobStore
  /** Encoded bodies larger than this go to the store. Default: the adapter's `maxMessageBytes` minus 8 KiB for headers. */
  thresholdBytes?: number
  /** How long the body of a dead-lettered message is kept, for peek and redrive. Default 14 days. */
  deadLetterRetentionMs?: number
  /** Prefix of every key written. Default `anymq/`. */
  prefix?: string
}

export const claimCheckOptionsCheck: OptionCheck = objectOf(
  {
    store: required(
      withMembers(
        { put: required(ofType('function')), get: required(ofType('function')), delete: required(ofType('function')), list: required(ofType('function')) },
        'a blob store (put, get, delete, list)',
      ),
    ),
    thresholdBytes: integer(1),
    deadLetterRetentionMs: integer(1),
    prefix: ofType('string'),
  },
  'an object { store, thresholdBytes?, deadLetterRetentionMs?, prefix? }',
)

/** Room left under `maxMessageBytes` for the headers anymq adds on retry and dead-lettering. */
const headerHeadroomBytes = 8 * 1024
const defaultDeadLetterRetentionMs = 14 * 86_400_000
const encoder = new TextEncoder()

/**
 * The claim check of one queue: offloads large bodies on send, fetches them back before decoding,
 * deletes a body once its message is acked, and keeps a dead letter's body for the retention (then
 * {@link sweepClaimChecks} deletes it). Internal; configured through {@link ClaimCheckOptions}.
 */
export class ClaimCheck {
  readonly store: BlobStore
  private readonly thresholdBytes: number
  private readonly retentionMs: number
  private readonly prefix: string

  constructor(
    options: ClaimCheckOptions,
    capabilities: Capabilities,
    private readonly adapter: string,
  ) {
    this.store = options.store
    this.thresholdBytes = options.thresholdBytes ?? Math.max(1, capabilities.maxMessageBytes - headerHeadroomBytes)
    this.retentionMs = options.deadLetterRetentionMs ?? defaultDeadLetterRetentionMs
    this.prefix = options.prefix ?? 'anymq/'
  }

  /** The message as it goes to the broker: unchanged when small, else its body stored and replaced by the key. */
  async offload(message: OutgoingMessage): Promise<OutgoingMessage> {
    if (message.body.byteLength <= this.thresholdBytes) return message
    const key = `${this.prefix}blobs/${randomUUID()}`
    await this.store.put(key, message.body)
    return { ...message, body: encoder.encode(key), headers: { ...message.headers, [wireHeaders.claimCheck]: key } }
  }

  /** Deletes the bodies of messages that were never handed to the broker (one of a batch was refused). */
  async discard(messages: readonly OutgoingMessage[]): Promise<void> {
    await Promise.all(messages.map((message) => this.deleteOf(message.headers)))
  }

  /** A publish failed and the broker may or may not have the messages: their bodies expire after the retention. */
  async expire(messages: readonly OutgoingMessage[]): Promise<void> {
    await Promise.all(messages.map((message) => this.markExpiring(message.headers)))
  }

  /** The real body of a received message. A body gone from the store can never be processed: `Unrecoverable`. */
  async fetch(message: IncomingMessage): Promise<Uint8Array> {
    const key = message.headers[wireHeaders.claimCheck]
    if (key === undefined) return message.body
    const body = await this.store.get(key)
    if (body === undefined)
      throw new Unrecoverable(
        `[anymq] [${this.adapter}] the claim-checked body '${key}' of message ${message.id} is not in the blob store (deleted after an earlier delivery was acked, or past its retention)`,
      )
    return body
  }

  /** After the ack: the body is no longer needed. */
  released(message: IncomingMessage): Promise<void> {
    return this.deleteOf(message.headers)
  }

  /** After dead-lettering: the body stays for the retention, recorded as an expiry marker {@link sweepClaimChecks} reads. */
  deadLettered(message: IncomingMessage): Promise<void> {
    return this.markExpiring(message.headers)
  }

  /** A dead letter's real body for peek; the message's own body (the key) when the blob is gone. */
  async bodyOf(message: IncomingMessage): Promise<Uint8Array> {
    const key = message.headers[wireHeaders.claimCheck]
    return key === undefined ? message.body : ((await this.store.get(key)) ?? message.body)
  }

  private async markExpiring(headers: Readonly<Record<string, string>>): Promise<void> {
    const key = headers[wireHeaders.claimCheck]
    if (key !== undefined) await this.store.put(expiryMarker(this.prefix, Date.now() + this.retentionMs, key), new Uint8Array())
  }

  private async deleteOf(headers: Readonly<Record<string, string>>): Promise<void> {
    const key = headers[wireHeaders.claimCheck]
    if (key !== undefined) await this.store.delete(key)
  }
}

function expiryMarker(prefix: string, expiresAt: number, key: string): string {
  return `${prefix}expiry/${String(expiresAt).padStart(15, '0')}/${key}`
}

/**
 * Deletes the bodies of dead letters whose retention has passed (and their markers); resolves how
 * many. Run it now and then (a cron, a timer) against each store; it only reads the markers, so it
 * costs one listing of `<prefix>expiry/`.
 */
export async function sweepClaimChecks(store: BlobStore, options: { prefix?: string; now?: number } = {}): Promise<number> {
  const prefix = options.prefix ?? 'anymq/'
  const now = options.now ?? Date.now()
  const markers = await store.list(`${prefix}expiry/`)
  let deleted = 0
  for (const marker of markers) {
    const rest = marker.slice(`${prefix}expiry/`.length)
    const slash = rest.indexOf('/')
    const expiresAt = Number(rest.slice(0, slash))
    if (slash < 0 || !Number.isFinite(expiresAt) || expiresAt > now) continue
    await store.delete(rest.slice(slash + 1))
    await store.delete(marker)
    deleted++
  }
  return deleted
}
