import type { StandardSchemaV1 } from '../schema.js'

/** One queue, topic or request/reply endpoint an application declared on a connection. */
export interface DeclaredChannel {
  kind: 'queue' | 'topic' | 'request-reply'
  name: string
  /** The body's schema (a request's, for request/reply). */
  schema: StandardSchemaV1 | undefined
  /** A reply's schema, for request/reply. */
  responseSchema?: StandardSchemaV1 | undefined
  contentType: string
  /** A queue's or topic's dead-letter queue, `false` for none. */
  deadLetter?: string | false
  /** Queues: whether something consumes it here. Request/reply: whether a responder serves it here. */
  received: boolean
  /** Request/reply: whether a requester sends to it from here. */
  sent: boolean
  /** Topics: the named subscriptions made here (`undefined` for an ephemeral one). */
  subscriptions: Set<string | undefined>
}

/**
 * What an application declared on one connection — queues, topics and their subscriptions,
 * requesters and responders with their schemas — remembered when the handles are made (never per
 * message), for `mq.asyncapi()`.
 */
export class DeclaredChannels {
  private readonly channels = new Map<string, DeclaredChannel>()

  declare(kind: DeclaredChannel['kind'], name: string, details: Pick<DeclaredChannel, 'schema' | 'contentType'> & Partial<DeclaredChannel>): DeclaredChannel {
    const id = `${kind}:${name}`
    let channel = this.channels.get(id)
    if (channel === undefined) {
      channel = { kind, name, received: false, sent: false, subscriptions: new Set(), ...details }
      this.channels.set(id, channel)
    } else {
      // A later handle with a schema (a responder after its requester) completes what an earlier one left out.
      channel.schema ??= details.schema
      channel.responseSchema ??= details.responseSchema
    }
    if (details.received) channel.received = true
    if (details.sent) channel.sent = true
    return channel
  }

  /** Every declared channel, by kind then name. */
  list(): DeclaredChannel[] {
    return [...this.channels.values()].sort((a, b) => a.kind.localeCompare(b.kind) || a.name.localeCompare(b.name))
  }
}
