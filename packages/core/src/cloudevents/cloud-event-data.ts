import { SerializationError } from '../errors.js'

/**
 * An event's `data` as bytes and back, chosen by its media type as the CloudEvents JSON format does:
 * JSON media types (`application/json`, `…+json`) as UTF-8 JSON, `text/*` as UTF-8 text, anything
 * else as the bytes themselves (`Uint8Array`).
 */
export function isJsonMediaType(mediaType: string): boolean {
  const essence = mediaType.split(';', 1)[0]!.trim().toLowerCase()
  return essence === 'application/json' || essence === 'text/json' || essence.endsWith('+json')
}

function isTextMediaType(mediaType: string): boolean {
  return mediaType.trim().toLowerCase().startsWith('text/')
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

export function encodeData(data: unknown, mediaType: string, where: string): Uint8Array {
  if (data === undefined) return new Uint8Array(0)
  if (data instanceof Uint8Array) return Buffer.from(data)
  if (isJsonMediaType(mediaType)) {
    let text: string | undefined
    try {
      text = JSON.stringify(data)
    } catch (error) {
      throw new SerializationError(`${where}: data cannot be written as JSON: ${(error as Error).message}`, { cause: error })
    }
    if (text === undefined) throw new SerializationError(`${where}: data of type ${typeof data} cannot be written as JSON`)
    return Buffer.from(text, 'utf8')
  }
  if (typeof data === 'string') return Buffer.from(data, 'utf8')
  throw new SerializationError(`${where}: datacontenttype '${mediaType}' takes data as a string (text) or a Uint8Array (bytes), got ${typeof data}`)
}

export function decodeData(bytes: Uint8Array, mediaType: string, where: string): unknown {
  if (bytes.byteLength === 0) return undefined
  if (isJsonMediaType(mediaType) || isTextMediaType(mediaType)) {
    let text: string
    try {
      text = utf8.decode(bytes)
    } catch (error) {
      throw new SerializationError(`${where}: data of type '${mediaType}' is not valid UTF-8`, { cause: error })
    }
    if (!isJsonMediaType(mediaType)) return text
    try {
      return JSON.parse(text)
    } catch (error) {
      throw new SerializationError(`${where}: data of type '${mediaType}' is not valid JSON: ${(error as Error).message}`, { cause: error })
    }
  }
  return bytes
}
