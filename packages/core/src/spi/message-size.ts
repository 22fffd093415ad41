import type { OutgoingMessage } from './transport.js'

const encoder = new TextEncoder()

/** Bytes a message occupies as brokers count it: body plus header names and values. */
export function messageSize(message: OutgoingMessage): number {
  let size = message.body.byteLength
  for (const [name, value] of Object.entries(message.headers)) {
    size += encoder.encode(name).byteLength + encoder.encode(value).byteLength
  }
  return size
}
