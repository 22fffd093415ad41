import type { OutgoingMessage } from './transport.js'

/** Bytes a message occupies as brokers count it: body plus header names and values. */
export function messageSize(message: OutgoingMessage): number {
  let size = message.body.byteLength
  const headers = message.headers
  // Counted, not encoded: no buffer per header on every send.
  for (const name in headers) size += Buffer.byteLength(name) + Buffer.byteLength(headers[name] as string)
  return size
}
