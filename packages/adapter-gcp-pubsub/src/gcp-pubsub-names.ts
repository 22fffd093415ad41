import type { ListedDestination } from '@anymq/core/spi'

/**
 * Topic and subscription ids for anymq's queues and topics. Pub/Sub ids allow letters, digits and
 * `-_.~+%`, so every anymq name is escaped the same way: letters, digits, `-`, `_`, `~` and `+` stay,
 * anything else (`.` and `%` included) becomes `%` and its UTF-8 bytes in hex. The `.` between the
 * parts of an id is then never part of a name, so two anymq names never share an id.
 *
 * | anymq | topic | subscription |
 * | --- | --- | --- |
 * | queue `q` | `<prefix>.q.<q>` | `<prefix>.q.<q>` (shared by every instance) |
 * | topic `t` | `<prefix>.t.<t>` | named `s`: `<prefix>.t.<t>.s.<s>`; unnamed: `<prefix>.t.<t>.e.<uuid>` |
 * | reply inbox | `<prefix>.r.<uuid>` | the same id |
 */
export class PubSubNames {
  constructor(
    private readonly projectId: string,
    private readonly prefix: string,
  ) {}

  topic(id: string): string {
    return `projects/${this.projectId}/topics/${id}`
  }

  subscription(id: string): string {
    return `projects/${this.projectId}/subscriptions/${id}`
  }

  queueId(queue: string): string {
    return `${this.prefix}.q.${escapeName(queue)}`
  }

  topicId(topic: string): string {
    return `${this.prefix}.t.${escapeName(topic)}`
  }

  subscriptionId(topic: string, subscription: string): string {
    return `${this.prefix}.t.${escapeName(topic)}.s.${escapeName(subscription)}`
  }

  ephemeralId(topic: string, unique: string): string {
    return `${this.prefix}.t.${escapeName(topic)}.e.${unique}`
  }

  replyId(unique: string): string {
    return `${this.prefix}.r.${unique}`
  }

  /**
   * The anymq queue, topic or named subscription an id stands for; `undefined` for ids of another
   * prefix and for anymq's private ones (reply inboxes, unnamed subscriptions, `undeliverable`).
   */
  parse(id: string): ListedDestination | undefined {
    if (!id.startsWith(`${this.prefix}.`)) return undefined
    const parts = id.slice(this.prefix.length + 1).split('.')
    if (parts.length === 2 && parts[0] === 'q') return { kind: 'queue', name: unescapeName(parts[1] as string) }
    if (parts.length === 2 && parts[0] === 't') return { kind: 'topic', name: unescapeName(parts[1] as string) }
    if (parts.length === 4 && parts[0] === 't' && parts[2] === 's')
      return { kind: 'subscription', name: unescapeName(parts[3] as string), topic: unescapeName(parts[1] as string) }
    return undefined
  }

  /** The id at the end of a topic or subscription path. */
  idOf(path: string): string {
    return path.slice(path.lastIndexOf('/') + 1)
  }

  /** Where subscriptions forward a message after 100 deliveries; anymq dead-letters long before. */
  deadLetterTopicId(): string {
    return `${this.prefix}.undeliverable`
  }
}

/** The anymq name an escaped one came from (the inverse of {@link escapeName}). */
export function unescapeName(escaped: string): string {
  return decodeURIComponent(escaped)
}

export function escapeName(name: string): string {
  let result = ''
  for (const character of name) {
    if (/^[A-Za-z0-9_~+-]$/.test(character)) result += character
    else for (const byte of Buffer.from(character)) result += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return result
}
