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

  /** Where subscriptions forward a message after 100 deliveries; anymq dead-letters long before. */
  deadLetterTopicId(): string {
    return `${this.prefix}.undeliverable`
  }
}

export function escapeName(name: string): string {
  let result = ''
  for (const character of name) {
    if (/^[A-Za-z0-9_~+-]$/.test(character)) result += character
    else for (const byte of Buffer.from(character)) result += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return result
}
