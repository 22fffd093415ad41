import { copyToBuffer, utf8Bytes } from './byte-slab.js'
import { SerializationError } from './errors.js'
import { either, type OptionCheck, ofType, oneOf, required, withMembers } from './options-validation.js'
import type { CloudEventsHeaders } from './spi/cloud-events-headers.js'

/** Turns bodies into bytes and back. Must be pure: the same body always gives the same bytes. */
export interface Codec<T = unknown> {
  /** MIME type carried with each message, so other clients know how to read it. */
  readonly contentType: string
  encode(body: T): Uint8Array
  decode(bytes: Uint8Array): T
  /**
   * Set by codecs that also write and read headers and the content type (the CloudEvents binding):
   * queues and topics then send and consume through it, and `encode`/`decode` serve only where no
   * headers travel (requests, replies, dead-letter edits).
   */
  readonly envelope?: MessageEnvelope<T>
  /**
   * `true` when every body `encode` (and `envelope.write`) returns is new memory that nothing else holds
   * or writes to afterwards (a fresh buffer, or a fresh piece of core's slab): core hands it to the
   * adapter as it is. Otherwise core copies it first, so an adapter never holds bytes that the sender,
   * or a codec reusing a buffer, could change after the send.
   */
  readonly freshBytes?: boolean
  /**
   * `true` when what `decode` returns holds no reference to the bytes it was given (a parsed value, a
   * string): core may then decode bytes it shares with the broker's stored copy, where it would
   * otherwise need a private copy per delivery so that a handler writing to them changes nothing else.
   */
  readonly decodesToNewValue?: boolean
}

/** A message's body, content type and headers, as an {@link MessageEnvelope} reads and writes them. */
export interface EnvelopeParts {
  body: Uint8Array
  contentType: string
  headers: Readonly<Record<string, string>>
}

/** What an envelope learns of the connection: the adapter's header conventions, and where it is used (for errors). */
export interface EnvelopeContext {
  readonly cloudEvents: CloudEventsHeaders
  readonly where: string
}

/**
 * A codec's message-level form: it writes the body, the content type and headers of a message (and may
 * propose its id and key), and reads a body back from all three. Throws `SerializationError` or
 * `ValidationError`, so a bad body fails its send and a bad message is dead-lettered.
 */
export interface MessageEnvelope<T> {
  write(body: T, context: EnvelopeContext): EnvelopeParts & { id?: string; key?: string }
  read(message: EnvelopeParts, context: EnvelopeContext): T
}

const decoder = new TextDecoder('utf-8', { fatal: true })

/** What `codec` returned, as it is when the codec declares {@link Codec.freshBytes}, else a private copy. Internal. */
export function unsharedBytes(codec: Codec<unknown>, bytes: Uint8Array): Uint8Array {
  return codec.freshBytes === true ? bytes : copyToBuffer(bytes)
}

/** JSON in UTF-8, the default. `undefined`, functions, symbols, BigInt and cycles are refused. */
export const jsonCodec: Codec<unknown> = {
  contentType: 'application/json',
  freshBytes: true,
  decodesToNewValue: true,
  encode(body) {
    if (body === undefined) throw new SerializationError('the json codec cannot encode undefined; send null or an object')
    let text: string | undefined
    try {
      text = JSON.stringify(body)
    } catch (error) {
      throw new SerializationError(`the json codec cannot encode this body: ${(error as Error).message}`, { cause: error })
    }
    if (text === undefined) throw new SerializationError(`the json codec cannot encode a ${typeof body}`)
    return utf8Bytes(text)
  },
  decode(bytes) {
    try {
      return JSON.parse(decoder.decode(bytes))
    } catch (error) {
      throw new SerializationError(`body is not valid UTF-8 JSON: ${(error as Error).message}`, { cause: error })
    }
  },
}

/** Bytes as they are: `Uint8Array` in, `Uint8Array` out (Node Buffers are accepted on send). */
export const rawCodec: Codec<Uint8Array> = {
  contentType: 'application/octet-stream',
  freshBytes: true,
  encode(body) {
    if (!(body instanceof Uint8Array)) throw new SerializationError(`the raw codec takes a Uint8Array or Buffer, got ${describe(body)}`)
    // A private copy (the sender may reuse its buffer), carved from a shared slab when small.
    return copyToBuffer(body)
  },
  decode(bytes) {
    return bytes
  },
}

/** UTF-8 text. */
export const textCodec: Codec<string> = {
  contentType: 'text/plain; charset=utf-8',
  freshBytes: true,
  decodesToNewValue: true,
  encode(body) {
    if (typeof body !== 'string') throw new SerializationError(`the text codec takes a string, got ${describe(body)}`)
    return utf8Bytes(body)
  },
  decode(bytes) {
    try {
      return decoder.decode(bytes)
    } catch (error) {
      throw new SerializationError('body is not valid UTF-8 text', {
        cause: error,
      })
    }
  },
}

export type CodecOption = 'json' | 'raw' | 'text' | Codec<any>

export const builtInCodecs = {
  json: jsonCodec,
  raw: rawCodec,
  text: textCodec,
} as const

/** Checks a `codec` option: a built-in codec's name or an object with `contentType`, `encode` and `decode`. */
export const codecCheck: OptionCheck = either(
  oneOf('json', 'text', 'raw'),
  withMembers(
    {
      contentType: required(ofType('string')),
      encode: required(ofType('function')),
      decode: required(ofType('function')),
      freshBytes: ofType('boolean'),
      decodesToNewValue: ofType('boolean'),
    },
    'a codec { contentType, encode, decode }',
  ),
)

export function resolveCodec(option: CodecOption | undefined): Codec<unknown> {
  if (option === undefined) return jsonCodec
  if (typeof option === 'string') return builtInCodecs[option] as Codec<unknown>
  return option as Codec<unknown>
}

function describe(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`
}
