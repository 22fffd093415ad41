import {
  type AdminTarget,
  type BrokerStats,
  describeDestination,
  type IncomingMessage,
  type ListedDestination,
  type QueueSpec,
  type Source,
  type TransportAdmin,
  UnsupportedFeatureError,
} from '@anymq/core/spi'
import type { RedisArgument, RedisConnection } from './redis-driver.js'
import { connectionError } from './redis-errors.js'
import { RedisKeys } from './redis-keys.js'
import { entryTime, type RawEntry, readEntry } from './redis-wire.js'

/** Entries read or deleted per command while scanning a stream. */
const page = 500
/** A released entry is XCLAIMed back with `TIME 1`, so its idle time is the age of the epoch; no held entry is ever that idle. */
const releasedIdleMs = 1e12

/** One consumer group as `XINFO GROUPS` tells it (`lag` is Redis 7's count of entries not yet read by the group, when it knows it). */
interface GroupInfo {
  name: string
  pending: number
  lastDeliveredId: string
  lag: number | null | undefined
}

/** One stream and the consumer group anymq reads it with. */
interface GroupedStream {
  stream: string
  group: string
  delayed: string
}

/** What the admin calls borrow from the transport. */
export interface RedisAdminContext {
  commands: RedisConnection
  keys: RedisKeys
  /** Lease of consumers given none: a consumer silent longer than this is not counted as attached. */
  defaultLeaseMs: number
  assertOpen(): void
  /** Called when a topic stream was deleted, so the transport stops trimming it. */
  forgetTopic(stream: string): void
}

/**
 * Stats, purge, delete, list and dead letters by id over plain Redis commands, so both drivers serve
 * them alike. A queue's stream keeps only unacknowledged entries (acks delete them); a topic's stream
 * keeps every entry for its retention, and each subscription is a consumer group on it.
 */
export class RedisAdmin implements TransportAdmin {
  constructor(private readonly context: RedisAdminContext) {}

  async stats(source: Source): Promise<BrokerStats> {
    this.context.assertOpen()
    const streams = this.streamsOf(source)
    return this.call(`reading stats of ${describeDestination(source)}`, async () => {
      const parts = await Promise.all(streams.map((grouped) => this.streamStats(grouped)))
      const oldest = parts.map((part) => part.oldestAt).filter((at): at is number => at !== undefined)
      return {
        ready: sum(parts.map((part) => part.ready)),
        inFlight: sum(parts.map((part) => part.inFlight)),
        // Every consumer of a subscription reads both its streams: the topic's group counts them once.
        consumers: parts[0]?.consumers ?? 0,
        oldestAgeMs: oldest.length === 0 ? undefined : Math.max(0, Date.now() - Math.min(...oldest)),
      }
    })
  }

  async purge(source: Source): Promise<void> {
    this.context.assertOpen()
    await this.call(`purging ${describeDestination(source)}`, async () => {
      for (const grouped of this.streamsOf(source)) {
        const group = await this.group(grouped)
        if (source.kind === 'subscription' && grouped.stream === this.context.keys.topic(source.subscription.topic)) {
          // The topic stream is shared: move only this subscription's group past every entry.
          if (group) await this.context.commands.call(['XGROUP', 'SETID', grouped.stream, grouped.group, '$'])
        } else {
          await this.deleteUnread(grouped.stream, group?.lastDeliveredId)
        }
        await this.context.commands.call(['DEL', grouped.delayed])
      }
    })
  }

  async remove(target: AdminTarget): Promise<void> {
    this.context.assertOpen()
    const { keys, commands } = this.context
    await this.call(`deleting ${describeDestination(target)}`, async () => {
      if (target.kind === 'queue') {
        const name = target.queue.name
        // A queue made again under this name starts without the old one's dedupe markers.
        await commands.call(['DEL', keys.queue(name), keys.queueDelayed(name), keys.queueActive(name)])
        await this.deleteAll(await this.scan(`${glob(keys.queue(name))}:dedupe:*`, undefined))
      } else if (target.kind === 'subscription') {
        const { topic, name } = target.subscription
        if (name === undefined) throw ephemeral()
        await this.destroyGroup(keys.topic(topic), name)
        await commands.call(['DEL', keys.subscription(topic, name), keys.subscriptionDelayed(topic, name)])
      } else {
        const stream = keys.topic(target.topic)
        // Subscription streams and delay sets may outlive their group (a crash mid-delete): find them by name too.
        const own = await this.scan(`${glob(stream)}:s:*`, undefined)
        await commands.call(['DEL', stream, ...own])
        this.context.forgetTopic(stream)
      }
    })
  }

  async list(prefix: string): Promise<ListedDestination[]> {
    this.context.assertOpen()
    const { keys } = this.context
    return this.call('listing queues and topics', async () => {
      const found: ListedDestination[] = []
      const queuePart = keys.queue('')
      for (const key of await this.scan(`${glob(queuePart + prefix)}*`, 'stream')) {
        const name = key.slice(queuePart.length)
        if (!name.includes(':')) found.push({ kind: 'queue', name })
      }
      const topicPart = keys.topic('')
      for (const key of await this.scan(`${glob(topicPart + prefix)}*`, 'stream')) {
        const topic = key.slice(topicPart.length)
        // `<topic>:s:<subscription>` streams hold one subscription's retries; the group on the topic is what makes it a subscription.
        if (topic.includes(':')) continue
        found.push({ kind: 'topic', name: topic })
        for (const group of await this.groups(key)) {
          if (!group.name.startsWith(RedisKeys.ephemeralGroupPrefix)) found.push({ kind: 'subscription', name: group.name, topic })
        }
      }
      return found
    })
  }

  async takeById(queue: QueueSpec, id: string, handle: (message: IncomingMessage) => Promise<void>): Promise<boolean> {
    this.context.assertOpen()
    const stream = this.context.keys.queue(queue.name)
    const { commands } = this.context
    const found = await this.call(`finding message '${id}' in queue '${queue.name}'`, async () => {
      let start = '-'
      for (;;) {
        const entries = (await commands.call(['XRANGE', stream, start, '+', 'COUNT', page], { binary: true })) as RawEntry[]
        if (entries.length === 0) return undefined
        for (const raw of entries) {
          const read = readEntry(stream, raw, 1)
          if (read.message.id !== id) continue
          // An entry a consumer holds right now is not waiting: leave it to that consumer.
          const held = (await commands.call(['XPENDING', stream, RedisKeys.queueGroup, read.entry.entryId, read.entry.entryId, 1]).catch(noGroup)) as unknown[]
          if (held.length === 0) return read
        }
        start = `(${String((entries[entries.length - 1] as RawEntry)[0])}`
      }
    })
    if (!found) return false
    await handle(found.message)
    await this.call(`removing message '${id}' from queue '${queue.name}'`, () =>
      commands.transaction([
        ['XACK', stream, RedisKeys.queueGroup, found.entry.entryId],
        ['XDEL', stream, found.entry.entryId],
      ]),
    )
    return true
  }

  /** The streams behind a queue (one) or a named subscription (the topic's, then its own retry stream). */
  private streamsOf(source: Source): GroupedStream[] {
    const { keys } = this.context
    if (source.kind === 'queue') {
      const name = source.queue.name
      return [{ stream: keys.queue(name), group: RedisKeys.queueGroup, delayed: keys.queueDelayed(name) }]
    }
    const { topic, name } = source.subscription
    if (name === undefined) throw ephemeral()
    return [
      { stream: keys.topic(topic), group: name, delayed: keys.subscriptionDelayed(topic, name) },
      { stream: keys.subscription(topic, name), group: name, delayed: keys.subscriptionDelayed(topic, name) },
    ]
  }

  private async streamStats({
    stream,
    group: groupName,
  }: GroupedStream): Promise<{ ready: number; inFlight: number; consumers: number; oldestAt: number | undefined }> {
    const { commands } = this.context
    const length = Number(await commands.call(['XLEN', stream]))
    const group = await this.group({ stream, group: groupName })
    if (!group) {
      // No consumer ever read it: every entry waits.
      const first = length === 0 ? [] : ((await commands.call(['XRANGE', stream, '-', '+', 'COUNT', 1])) as RawEntry[])
      return { ready: length, inFlight: 0, consumers: 0, oldestAt: first[0] ? entryTime(String(first[0][0])) : undefined }
    }
    const unread = group.lag ?? (await this.count(stream, `(${group.lastDeliveredId}`))
    const released =
      group.pending === 0 ? [] : ((await commands.call(['XPENDING', stream, groupName, 'IDLE', releasedIdleMs, '-', '+', 10_000])) as unknown[][])
    const next = unread === 0 ? [] : ((await commands.call(['XRANGE', stream, `(${group.lastDeliveredId}`, '+', 'COUNT', 1])) as RawEntry[])
    const firstReleased = released[0]?.[0]
    const oldest = [...(firstReleased === undefined ? [] : [String(firstReleased)]), ...(next[0] ? [String(next[0][0])] : [])].map(entryTime)
    return {
      ready: unread + released.length,
      inFlight: group.pending - released.length,
      consumers: await this.attachedConsumers(stream, groupName),
      oldestAt: oldest.length === 0 ? undefined : Math.min(...oldest),
    }
  }

  /** Consumers that read or settled within the default lease: a live consumer polls every `blockMs`; a closed one that released entries lingers in the group. */
  private async attachedConsumers(stream: string, group: string): Promise<number> {
    const consumers = (await this.context.commands.call(['XINFO', 'CONSUMERS', stream, group]).catch(noGroup)) as unknown[][]
    return consumers.map(record).filter((consumer) => Number(consumer.idle) < this.context.defaultLeaseMs).length
  }

  private async group({ stream, group }: Pick<GroupedStream, 'stream' | 'group'>): Promise<GroupInfo | undefined> {
    return (await this.groups(stream)).find((found) => found.name === group)
  }

  private async groups(stream: string): Promise<GroupInfo[]> {
    const groups = (await this.context.commands.call(['XINFO', 'GROUPS', stream]).catch(noStream)) as unknown[][]
    return groups.map(record).map((fields) => ({
      name: String(fields.name),
      pending: Number(fields.pending),
      lastDeliveredId: String(fields['last-delivered-id']),
      lag: fields.lag === null || fields.lag === undefined ? undefined : Number(fields.lag),
    }))
  }

  /** Entries from `start` on, counted page by page (Redis 7 gives no lag after deletions inside the unread range). */
  private async count(stream: string, start: string): Promise<number> {
    let counted = 0
    let from = start
    for (;;) {
      const entries = (await this.context.commands.call(['XRANGE', stream, from, '+', 'COUNT', page])) as RawEntry[]
      counted += entries.length
      if (entries.length < page) return counted
      from = `(${String((entries[entries.length - 1] as RawEntry)[0])}`
    }
  }

  /** Deletes the entries after `lastDeliveredId` (all when the group never read), up to the last entry at the time of the call. */
  private async deleteUnread(stream: string, lastDeliveredId: string | undefined): Promise<void> {
    const { commands } = this.context
    const last = (await commands.call(['XREVRANGE', stream, '+', '-', 'COUNT', 1])) as RawEntry[]
    if (!last[0]) return
    const end = String(last[0][0])
    let from = lastDeliveredId === undefined ? '-' : `(${lastDeliveredId}`
    for (;;) {
      const entries = (await commands.call(['XRANGE', stream, from, end, 'COUNT', page])) as RawEntry[]
      if (entries.length === 0) return
      const ids = entries.map((entry) => String(entry[0]))
      await commands.call(['XDEL', stream, ...ids])
      from = `(${ids[ids.length - 1]}`
    }
  }

  private async destroyGroup(stream: string, group: string): Promise<void> {
    await this.context.commands.call(['XGROUP', 'DESTROY', stream, group]).catch(noStream)
  }

  /** Deletes keys a thousand per command: a queue may hold a dedupe marker per message of the last window. */
  private async deleteAll(keys: readonly string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += 1000) await this.context.commands.call(['DEL', ...keys.slice(start, start + 1000)])
  }

  /** Every key matching `pattern` (of `type`, when given), with SCAN: never KEYS, which blocks Redis. */
  private async scan(pattern: string, type: string | undefined): Promise<string[]> {
    const found = new Set<string>()
    let cursor = '0'
    do {
      const args: RedisArgument[] = ['SCAN', cursor, 'MATCH', pattern, 'COUNT', 1000, ...(type ? ['TYPE', type] : [])]
      const [next, keys] = (await this.context.commands.call(args)) as [string, string[]]
      cursor = String(next)
      for (const key of keys) found.add(String(key))
    } while (cursor !== '0')
    return [...found].sort()
  }

  private async call<T>(what: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work()
    } catch (error) {
      throw connectionError(what, error)
    }
  }
}

/** `XINFO` replies in RESP2: `[name, value, name, value, …]`. */
function record(flat: unknown[]): Record<string, unknown> {
  const result: Record<string, unknown> = {}
  for (let index = 0; index + 1 < flat.length; index += 2) result[String(flat[index])] = flat[index + 1]
  return result
}

function noStream(error: unknown): unknown[] {
  if (/no such key|requires the key to exist/i.test(String((error as Error)?.message ?? error))) return []
  throw error
}

function noGroup(error: unknown): unknown[] {
  if (/NOGROUP|no such key/i.test(String((error as Error)?.message ?? error))) return []
  throw error
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0)
}

/** Escapes SCAN's glob characters (names are validated, but the key prefix is the user's). */
function glob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&')
}

function ephemeral(): UnsupportedFeatureError {
  return new UnsupportedFeatureError('redis', 'admin calls on an ephemeral subscription', 'name the subscription')
}
