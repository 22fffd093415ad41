import { ValidationError } from '../errors.js'
import type { CloudEventsHeaders } from '../spi/cloud-events-headers.js'
import { type ReceivedCloudEvent, validateCloudEvent } from './cloud-event.js'
import { decodeData, encodeData } from './cloud-event-data.js'

/** A message's parts a binding reads or writes: body bytes, content type and headers. */
export interface EventMessage {
  body: Uint8Array
  contentType: string
  headers: Readonly<Record<string, string>>
}

export const defaultDataContentType = 'application/json'

/**
 * Binary content mode: each attribute a header (`<prefix><name>`, its value as a string), except
 * `datacontenttype`, which is the message's content type (and the convention's `contentTypeHeader`),
 * and `data`, which is the body.
 */
export function writeBinary(event: ReceivedCloudEvent, convention: CloudEventsHeaders, where: string): EventMessage {
  const contentType = event.datacontenttype ?? defaultDataContentType
  const headers: Record<string, string> = {}
  for (const name of Object.keys(event)) {
    const value = event[name]
    if (name === 'data' || name === 'datacontenttype' || value === undefined) continue
    headers[`${convention.attributePrefix}${name}`] = String(value)
  }
  if (convention.contentTypeHeader !== undefined) headers[convention.contentTypeHeader] = contentType
  return { body: encodeData(event.data, contentType, where), contentType, headers }
}

/** The attribute named by a header, or undefined when the header is no CloudEvents attribute. */
function attributeOf(header: string, prefixes: readonly string[]): string | undefined {
  const lower = header.toLowerCase()
  for (const prefix of prefixes) if (lower.startsWith(prefix)) return lower.slice(prefix.length)
  return undefined
}

function prefixesOf(convention: CloudEventsHeaders): string[] {
  return [convention.attributePrefix, ...(convention.acceptedPrefixes ?? [])].map((prefix) => prefix.toLowerCase())
}

/** Whether the message carries a binary-mode event: a `specversion` attribute header. */
export function isBinaryEvent(message: EventMessage, convention: CloudEventsHeaders): boolean {
  const prefixes = prefixesOf(convention)
  return Object.keys(message.headers).some((header) => attributeOf(header, prefixes) === 'specversion')
}

/** Reads a binary-mode event; `contentType` is where the convention keeps `datacontenttype`. Throws `ValidationError` or `SerializationError`. */
export function readBinary<T>(message: EventMessage, contentType: string | undefined, convention: CloudEventsHeaders, where: string): ReceivedCloudEvent<T> {
  const prefixes = prefixesOf(convention)
  const event: Record<string, unknown> = {}
  for (const header of Object.keys(message.headers)) {
    const name = attributeOf(header, prefixes)
    if (name === undefined || name === '') continue
    if (name === 'data')
      throw new ValidationError(`${where} (CloudEvents 1.0)`, [{ path: [header], message: "'data' cannot travel as a header in binary mode" }])
    event[name] = message.headers[header]
  }
  // The bindings put datacontenttype in the transport's content type; a `datacontenttype` header too
  // (the JavaScript SDK's Kafka binding writes both) is read only when the transport has none.
  if (contentType !== undefined && contentType !== '') event.datacontenttype = contentType
  const dataContentType = event.datacontenttype as string | undefined
  validateCloudEvent(event, where)
  const data = decodeData(message.body, dataContentType ?? defaultDataContentType, where)
  if (data !== undefined) event.data = data
  return event as ReceivedCloudEvent<T>
}
