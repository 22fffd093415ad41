/** Pub/Sub accepts at most 1000 messages in one Publish call. */
const maxMessagesPerRequest = 1000
/** Protobuf framing of a message and of each attribute entry (tags and lengths), rounded up. */
const messageOverheadBytes = 16
const attributeOverheadBytes = 8

/** The fields of an encoded message that count toward a Publish request's size. */
export interface SizedMessage {
  data: Uint8Array
  attributes: Record<string, string>
  orderingKey: string
}

/** What one message adds to a Publish request, in bytes (an upper estimate of its protobuf encoding). */
export function requestBytesOf(message: SizedMessage): number {
  let bytes = messageOverheadBytes + message.data.byteLength + Buffer.byteLength(message.orderingKey)
  for (const name in message.attributes) {
    bytes += attributeOverheadBytes + Buffer.byteLength(name) + Buffer.byteLength(message.attributes[name] as string)
  }
  return bytes
}

/**
 * Cuts messages, in their order, into runs that each fit one Publish request: at most 1000 messages
 * and at most `maxBytes`. A message larger than `maxBytes` on its own gets a request of its own
 * (the server judges it against the per-message limit).
 */
export function* publishRequests<M extends SizedMessage>(messages: readonly M[], maxBytes: number): Generator<M[]> {
  let run: M[] = []
  let bytes = 0
  for (const message of messages) {
    const size = requestBytesOf(message)
    if (run.length > 0 && (run.length === maxMessagesPerRequest || bytes + size > maxBytes)) {
      yield run
      run = []
      bytes = 0
    }
    run.push(message)
    bytes += size
  }
  if (run.length > 0) yield run
}
