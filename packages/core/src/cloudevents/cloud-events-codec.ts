import type { Codec, EnvelopeContext, EnvelopeParts, MessageEnvelope } from '../codec.js'
import { ValidationError } from '../errors.js'
import { type CloudEvent, completeCloudEvent, type ReceivedCloudEvent } from './cloud-event.js'
import { isBinaryEvent, readBinary, writeBinary } from './cloud-event-binary.js'
import { isBatchContentType, isStructuredContentType, readStructured, structuredContentType, writeStructured } from './cloud-event-structured.js'

/** Options of {@link cloudEvents}. */
export interface CloudEventsCodecOptions {
  /**
   * How events are sent: `binary` (default) puts the attributes in headers after the broker's
   * CloudEvents protocol binding and `data` in the body; `structured` sends the whole event as
   * `application/cloudevents+json`. Consumers read both, whatever this says.
   */
  mode?: 'binary' | 'structured'
}

/**
 * The opt-in CloudEvents 1.0 binding: a codec for queues and topics whose bodies are
 * {@link CloudEvent}s. `mq.queue<CloudEvent<Order>>('orders', { codec: cloudEvents() })`.
 *
 * On send the event gets `specversion` `1.0` and a random `id` when absent, is validated (a bad one
 * rejects the send with `ValidationError`, nothing sent), and goes out in the chosen mode; the message
 * id is the event id and the key its `partitionkey` extension, unless the send options say otherwise.
 * On receive the mode is told from the message: `application/cloudevents+json` is structured, a
 * `specversion` attribute header is binary; anything else, or an invalid event, is dead-lettered
 * with `ValidationError`. Attributes read from headers are strings. Where no headers travel
 * (requests, replies, dead-letter edits) `encode`/`decode` use the structured form.
 */
export function cloudEvents<T = unknown>(options: CloudEventsCodecOptions = {}): Codec<CloudEvent<T>> {
  const mode = options.mode ?? 'binary'
  if (mode !== 'binary' && mode !== 'structured')
    throw new ValidationError('cloudEvents() options', [{ path: ['mode'], message: `must be 'binary' or 'structured', got ${JSON.stringify(mode)}` }])
  const envelope: MessageEnvelope<CloudEvent<T>> = {
    write(body, context) {
      const event = completeCloudEvent(body, `event for ${context.where}`)
      const where = `event ${event.id} for ${context.where}`
      const key = typeof event.partitionkey === 'string' ? event.partitionkey : undefined
      if (mode === 'binary') return { ...writeBinary(event, context.cloudEvents, where), id: event.id, key }
      const header = context.cloudEvents.contentTypeHeader
      return {
        body: writeStructured(event, where),
        contentType: structuredContentType,
        headers: header === undefined ? {} : { [header]: structuredContentType },
        id: event.id,
        key,
      }
    },
    read(message, context) {
      return readEvent<T>(message, context)
    },
  }
  return {
    contentType: mode === 'binary' ? 'application/json' : structuredContentType,
    encode: (body) => writeStructured(completeCloudEvent(body, 'event'), 'event'),
    decode: (bytes) => readStructured<T>(bytes, 'event'),
    envelope,
    // Binary data and structured documents are written into new buffers (`Buffer.from`).
    freshBytes: true,
  }
}

function readEvent<T>(message: EnvelopeParts, context: EnvelopeContext): ReceivedCloudEvent<T> {
  const convention = context.cloudEvents
  const header = convention.contentTypeHeader
  const contentType = (header === undefined ? undefined : message.headers[header]) ?? message.contentType
  const where = `message from ${context.where}`
  if (isStructuredContentType(contentType)) return readStructured<T>(message.body, where)
  if (isBatchContentType(contentType))
    throw new ValidationError(`${where} (CloudEvents 1.0)`, [{ message: 'is a batch (application/cloudevents-batch+json); anymq reads one event per message' }])
  if (isBinaryEvent(message, convention)) return readBinary<T>(message, contentType, convention, where)
  throw new ValidationError(`${where} (CloudEvents 1.0)`, [
    {
      message: `is no CloudEvent: no '${convention.attributePrefix}specversion' header (binary mode) and its content type ${JSON.stringify(contentType)} is not application/cloudevents+json (structured mode)`,
    },
  ])
}
