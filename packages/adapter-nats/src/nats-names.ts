/**
 * Stream, subject and consumer names for anymq's queues and topics. JetStream names allow no `.`,
 * `*`, `>` or whitespace, and a subject token no `.`, so every name is escaped the same way: letters,
 * digits and `-` stay, anything else becomes `_` and its UTF-8 bytes in hex (`orders.dlq` →
 * `orders_2edlq`). The escape is one-to-one, so two anymq names never share a stream.
 *
 * | anymq | stream | subjects | consumer |
 * | --- | --- | --- | --- |
 * | queue `q` | `<PREFIX>_Q_<q>` (work queue) | `<prefix>.q.<q>` | `anymq` (one durable, shared) |
 * | topic `t` | `<PREFIX>_T_<t>` (limits, max age) | `<prefix>.t.<t>.all`, `<prefix>.t.<t>.to.<subscription>` | the subscription name |
 * | delays of an ordered queue `q` | `<PREFIX>_D_<q>` (work queue) | `<prefix>.d.<q>` | `anymq` |
 */
export class NatsNames {
  constructor(private readonly prefix: string) {}

  queueStream(queue: string): string {
    return `${this.prefix.toUpperCase()}_Q_${escapeName(queue)}`
  }

  queueSubject(queue: string): string {
    return `${this.prefix}.q.${escapeName(queue)}`
  }

  topicStream(topic: string): string {
    return `${this.prefix.toUpperCase()}_T_${escapeName(topic)}`
  }

  topicSubjects(topic: string): string {
    return `${this.prefix}.t.${escapeName(topic)}.>`
  }

  /**
   * Where an `ordered` queue's delayed messages and retries wait until due: not in the queue's own
   * stream, whose consumer lets one message be unsettled at a time (a wait there would hold up all).
   */
  delayStream(queue: string): string {
    return `${this.prefix.toUpperCase()}_D_${escapeName(queue)}`
  }

  delaySubject(queue: string): string {
    return `${this.prefix}.d.${escapeName(queue)}`
  }

  /** Where a publish to the topic goes: every subscription reads it. */
  topicSubject(topic: string): string {
    return `${this.prefix}.t.${escapeName(topic)}.all`
  }

  /** Where a retry or redrive for one subscription goes: the others skip it. */
  subscriptionSubject(topic: string, consumer: string): string {
    return `${this.prefix}.t.${escapeName(topic)}.to.${consumer}`
  }

  /** What every queue stream's name starts with; {@link unescapeName} of the rest is the queue. */
  get queueStreamPrefix(): string {
    return this.queueStream('')
  }

  /** What every topic stream's name starts with. */
  get topicStreamPrefix(): string {
    return this.topicStream('')
  }

  /** The durable consumer of a named subscription. */
  subscriptionConsumer(subscription: string): string {
    return escapeName(subscription)
  }
}

/** The one durable consumer every instance of a queue pulls from. */
export const queueConsumer = 'anymq'

export function escapeName(name: string): string {
  let result = ''
  for (const character of name) {
    if (/^[A-Za-z0-9-]$/.test(character)) result += character
    else for (const byte of Buffer.from(character)) result += `_${byte.toString(16).padStart(2, '0')}`
  }
  return result
}

/** The anymq name of an escaped one (`orders_2edlq` → `orders.dlq`). */
export function unescapeName(escaped: string): string {
  const bytes: number[] = []
  for (let index = 0; index < escaped.length; index++) {
    if (escaped[index] === '_') {
      bytes.push(Number.parseInt(escaped.slice(index + 1, index + 3), 16))
      index += 2
    } else bytes.push(escaped.charCodeAt(index))
  }
  return Buffer.from(bytes).toString()
}
