import { randomUUID } from 'node:crypto'
import type { Delivery, Inbox, Logger, TransportConsumeOptions } from '@anymq/core/spi'
import type { RedisSettings } from './redis-config.js'
import { pause, whenReady } from './redis-connection.js'
import type { RedisConnection, RedisDriver } from './redis-driver.js'
import { connectionError, describeError, isConnectionProblem } from './redis-errors.js'
import type { RedisKeys } from './redis-keys.js'
import type { ReplyPubSub } from './redis-reply-pubsub.js'
import { publishedReplyFields, type RawEntry, readEntry } from './redis-wire.js'

/** An inbox key expires this long after its last use, so a requester that crashed leaves nothing behind. */
export const inboxTtlMs = 10 * 60_000
/** Read replies are trimmed once this many piled up… */
const trimEvery = 256
/** …or at the first read this long after the last trim. */
const trimAfterMs = 5000

/** A reply in an inbox has nothing to settle: it is read once, and trimmed with the others. */
const settled = async (): Promise<void> => {}

/** The entry id right after `entryId` (`<ms>-<seq + 1>`): XTRIM MINID keeps its argument, so this removes `entryId` too. */
function nextEntryId(entryId: string): string {
  const dash = entryId.indexOf('-')
  return `${entryId.slice(0, dash)}-${BigInt(entryId.slice(dash + 1)) + 1n}`
}

/** The entry id of a reply that came over PUBLISH (`message.raw.entryId`): it was never in a stream. */
export const publishedEntryId = '0-0'

/**
 * A requester's replies, by two ways. A responder first publishes a reply on the inbox's channel
 * (`SPUBLISH`, or `PUBLISH` before Redis 7: see `redis-reply-pubsub.ts`), which this inbox subscribes
 * to (on a connection of its own) before its address is handed out: nothing written, so no fsync on
 * the round trip under `appendfsync always`. When nobody listens there (the publish returns 0: this
 * subscriber is reconnecting, or the requester is an older anymq) the
 * responder writes the reply into the inbox's private stream instead, as older responders always do;
 * the inbox reads that stream with plain blocking XREAD (no consumer group: only this process reads
 * it) on another connection. A reply that came both ways (a PUBLISH resent after a lost connection) is
 * dropped the second time by core, which routes one reply per waiting request. Read replies are
 * trimmed; the stream is deleted on close and expires by itself when abandoned.
 *
 * What the published way gives up: a reply Redis pushed to the subscriber's socket while that
 * connection was dropping is lost (PUBLISH counted the subscriber), and the request ends in
 * `RequestTimeoutError`. The waiting request lives only in this process' memory, as the streamed
 * reply's reader does, so this loses replies only in a window the requester already has: its own
 * connection failing while a request is under way.
 */
export class RedisInbox implements Inbox {
  readonly address = randomUUID()
  private readonly key: string
  private readonly channel: string
  private blocking: RedisConnection | undefined
  private subscriber: RedisConnection | undefined
  private blockingId: number | undefined
  private stopped = false
  private loop: Promise<void> | undefined
  /** Aborted on stop: wakes every wait at once. */
  private readonly stopping = new AbortController()
  private lastId = '0-0'
  private lastRefresh = 0
  /** Replies read since the last trim, and when that was. */
  private unTrimmed = 0
  private lastTrim = Date.now()
  /** Errors reported since the last successful read: each different one is reported once per outage. */
  private readonly reported = new Set<string>()

  constructor(
    private readonly settings: RedisSettings,
    private readonly driver: RedisDriver,
    keys: RedisKeys,
    private readonly commands: RedisConnection,
    private readonly replyPubSub: () => Promise<ReplyPubSub>,
    private readonly logger: Logger,
    private readonly options: TransportConsumeOptions,
    private readonly deliver: (delivery: Delivery) => void,
    private readonly onClosed: () => void,
  ) {
    this.key = keys.inbox(this.address)
    this.channel = keys.inboxChannel(this.address)
  }

  async start(): Promise<void> {
    const blocking = await this.driver.open(this.settings, 'inbox', this.logger, (error) => this.reportOutage(error))
    this.blocking = blocking
    this.blockingId = Number(await blocking.call(['CLIENT', 'ID']))
    blocking.onReady(() => {
      void blocking
        .call(['CLIENT', 'ID'])
        .then((id: unknown) => {
          this.blockingId = Number(id)
        })
        .catch(() => {})
    })
    this.loop = this.readLoop()
    // Subscribed before start() returns, so before any request carries this inbox's address.
    const subscriber = await this.driver.open(this.settings, 'replies', this.logger, (error) => this.reportOutage(error))
    this.subscriber = subscriber
    try {
      await subscriber.subscribe(this.channel, (await this.replyPubSub()) === 'sharded', (payload) => this.receivePublished(payload))
    } catch (error) {
      if (isConnectionProblem(error)) throw error
      // Refused (an ACL without the channel): responders' publishes reach nobody, so replies come through the stream.
      this.subscriber = undefined
      await subscriber.close()
      this.logger.warn(
        `redis: reply inbox not subscribed to its channel (${describeError(error)}); replies come through its stream, one fsync more per round trip`,
      )
    }
  }

  async close(): Promise<void> {
    if (this.stopped) return
    this.stopped = true
    this.stopping.abort()
    // First: responders then write late replies into the stream, deleted below, as before.
    await this.subscriber?.close()
    if (this.blockingId !== undefined && this.blocking?.ready) {
      await this.commands.call(['CLIENT', 'UNBLOCK', this.blockingId]).catch(() => {})
    }
    await this.loop
    await this.commands.call(['DEL', this.key]).catch((error: unknown) => this.options.onError(connectionError('deleting a reply inbox', error)))
    if (this.blocking) await this.blocking.close()
    this.onClosed()
  }

  kill(): void {
    this.stopped = true
    this.stopping.abort()
    this.blocking?.terminate()
    this.subscriber?.terminate()
  }

  private receivePublished(payload: Buffer): void {
    if (this.stopped) return
    const { message, entry } = readEntry(this.channel, [publishedEntryId, publishedReplyFields(payload)], 1)
    this.deliver({ message, raw: entry, ack: settled, retry: settled, release: settled, extendLease: settled })
  }

  private async readLoop(): Promise<void> {
    let failures = 0
    while (!this.stopped) {
      const blocking = this.blocking as RedisConnection
      if (!blocking.ready) {
        await whenReady(blocking, 1000, this.stopping.signal)
        continue
      }
      if (Date.now() - this.lastRefresh > inboxTtlMs / 10) {
        this.lastRefresh = Date.now()
        void this.commands.call(['PEXPIRE', this.key, inboxTtlMs]).catch(() => {})
      }
      let reply: Array<[Buffer, RawEntry[]]> | null
      try {
        reply = (await blocking.call(['XREAD', 'COUNT', 1000, 'BLOCK', this.settings.blockMs, 'STREAMS', this.key, this.lastId], {
          binary: true,
          blockMs: this.settings.blockMs,
        })) as Array<[Buffer, RawEntry[]]> | null
        failures = 0
        this.reported.clear()
      } catch (error) {
        if (this.stopped) break
        this.reportOutage(connectionError('reading a reply inbox', error))
        failures++
        await pause(Math.min(2000, 50 * 2 ** Math.min(failures, 6)), this.stopping.signal)
        continue
      }
      for (const [, entries] of reply ?? []) {
        for (const raw of entries) {
          const { message, entry } = readEntry(this.key, raw, 1)
          this.lastId = entry.entryId
          this.unTrimmed++
          this.deliver({ message, raw: entry, ack: settled, retry: settled, release: settled, extendLease: settled })
        }
      }
      this.trimRead()
    }
  }

  /**
   * A reply is read once: what was read is trimmed away so the inbox stays small. Not after every
   * read: with `appendfsync always` each write waits for an fsync, and a write per reply sat in front
   * of the next request (a sequential requester's p99). Once `trimEvery` replies were read, or a
   * while after the last trim, one XTRIM MINID removes everything up to the last read.
   */
  private trimRead(): void {
    if (this.unTrimmed === 0 || (this.unTrimmed < trimEvery && Date.now() - this.lastTrim < trimAfterMs)) return
    this.unTrimmed = 0
    this.lastTrim = Date.now()
    void this.commands.call(['XTRIM', this.key, 'MINID', nextEntryId(this.lastId)]).catch(() => {})
  }

  private reportOutage(error: Error): void {
    if (this.stopped || this.reported.has(error.message)) return
    this.reported.add(error.message)
    this.options.onError(error)
  }
}
