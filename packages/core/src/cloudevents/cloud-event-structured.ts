import { SerializationError, ValidationError } from '../errors.js'
import type { ReceivedCloudEvent } from './cloud-event.js'
import { validateCloudEvent } from './cloud-event.js'
import { isJsonMediaType } from './cloud-event-data.js'

/** Media type of the CloudEvents JSON event format (structured content mode). */
export const structuredContentType = 'application/cloudevents+json; charset=utf-8'

/** Whether a content type names the JSON event format (`application/cloudevents+json`, parameters ignored). */
export function isStructuredContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.split(';', 1)[0]!.trim().toLowerCase() === 'application/cloudevents+json'
}

/** Whether a content type names a batch of events, which anymq does not read (one event per message). */
export function isBatchContentType(contentType: string | undefined): boolean {
  return contentType !== undefined && contentType.split(';', 1)[0]!.trim().toLowerCase() === 'application/cloudevents-batch+json'
}

/**
 * The JSON event format (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md):
 * every attribute a member; `data` as JSON when the data content type is JSON (or absent) or the data a
 * string, `data_base64` for bytes.
 */
export function writeStructured(event: ReceivedCloudEvent, where: string): Uint8Array {
  const document: Record<string, unknown> = {}
  for (const name of Object.keys(event)) if (name !== 'data' && event[name] !== undefined) document[name] = event[name]
  const data = event.data
  if (data instanceof Uint8Array) document.data_base64 = Buffer.from(data).toString('base64')
  else if (data !== undefined) {
    const mediaType = event.datacontenttype
    if (mediaType !== undefined && !isJsonMediaType(mediaType) && typeof data !== 'string')
      throw new SerializationError(`${where}: datacontenttype '${mediaType}' takes data as a string or a Uint8Array, got ${typeof data}`)
    document.data = data
  }
  let text: string
  try {
    text = JSON.stringify(document)
  } catch (error) {
    throw new SerializationError(`${where}: the event cannot be written as JSON: ${(error as Error).message}`, { cause: error })
  }
  return Buffer.from(text, 'utf8')
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** Reads the JSON event format; `data_base64` becomes a `Uint8Array` in `data`. Throws `SerializationError` or `ValidationError`. */
export function readStructured<T>(body: Uint8Array, where: string): ReceivedCloudEvent<T> {
  let document: unknown
  try {
    document = JSON.parse(utf8.decode(body))
  } catch (error) {
    throw new SerializationError(`${where}: a structured CloudEvent must be UTF-8 JSON: ${(error as Error).message}`, { cause: error })
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    throw new ValidationError(`${where} (CloudEvents 1.0)`, [{ message: 'a structured CloudEvent is a JSON object' }])
  const event = { ...(document as Record<string, unknown>) }
  const base64 = event.data_base64
  if (base64 !== undefined) {
    if ('data' in event)
      throw new ValidationError(`${where} (CloudEvents 1.0)`, [{ path: ['data_base64'], message: 'data and data_base64 cannot both be present' }])
    if (typeof base64 !== 'string') throw new ValidationError(`${where} (CloudEvents 1.0)`, [{ path: ['data_base64'], message: 'must be a base64 string' }])
    delete event.data_base64
    event.data = new Uint8Array(Buffer.from(base64, 'base64'))
  }
  validateCloudEvent(event, where)
  return event as ReceivedCloudEvent<T>
}
