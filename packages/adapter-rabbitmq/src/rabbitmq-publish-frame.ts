/**
 * The properties of a publish this adapter sets: a subset of amqplib's `Options.Publish`, so the same
 * object goes to amqplib when the frame below cannot be used.
 */
export interface PublishProperties {
  messageId?: string
  contentType?: string
  /** String values only: what `publishOptions` builds. */
  headers?: Record<string, string>
  correlationId?: string
  replyTo?: string
  /** Whole seconds since the epoch, as AMQP defines it. */
  timestamp?: number
  persistent?: boolean
  mandatory?: boolean
  expiration?: string
  priority?: number
}

/** AMQP 0-9-1 frame types, class and method ids, frame end (the spec's section 4.2). */
const methodFrame = 1
const headerFrame = 2
const bodyFrame = 3
const frameEnd = 0xce
const basicClass = 60
const publishMethod = 40
/** Frame type, channel and size before a payload, frame end after it. */
const frameOverhead = 8
const shortStringMax = 255

/**
 * Encodes one `basic.publish` — its method frame, content header frame and body frame(s) — into one
 * buffer, byte for byte what amqplib 2.x writes for the same publish (a test compares them). amqplib
 * builds the method and the properties in buffers of their own, encodes the header table through
 * the prototype chain `Args.publish` wraps it in, then copies all of it into a fourth buffer: at
 * 1 KB that doubled its CPU per publish once a message carries headers, as every anymq message does.
 *
 * Returns `undefined` for what it does not encode, for amqplib to handle (and refuse) as before: a
 * short string over 255 bytes, a header value that is not a string, a timestamp or priority out of
 * range.
 */
export function encodePublish(
  channel: number,
  exchange: string,
  routingKey: string,
  content: Buffer,
  properties: PublishProperties,
  frameMax: number,
): Buffer | undefined {
  const exchangeBytes = Buffer.byteLength(exchange)
  const routingKeyBytes = Buffer.byteLength(routingKey)
  if (exchangeBytes > shortStringMax || routingKeyBytes > shortStringMax) return undefined
  const { contentType, headers, correlationId, replyTo, expiration, messageId, timestamp, priority, persistent } = properties
  let flags = 0
  let propertyBytes = 0
  // Short strings: 0 when absent, -1 when over 255 bytes (a frame cannot carry them: amqplib's publish decides).
  const contentTypeBytes = shortStringBytes(contentType)
  const correlationIdBytes = shortStringBytes(correlationId)
  const replyToBytes = shortStringBytes(replyTo)
  const expirationBytes = shortStringBytes(expiration)
  const messageIdBytes = shortStringBytes(messageId)
  if (contentTypeBytes < 0 || correlationIdBytes < 0 || replyToBytes < 0 || expirationBytes < 0 || messageIdBytes < 0) return undefined
  if (contentType !== undefined) {
    flags |= 0x8000
    propertyBytes += 1 + contentTypeBytes
  }
  // A table even when empty, as amqplib always writes one: a consumer reading `properties.headers[name]` finds an object.
  let tableBytes = 0
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined) continue
    if (typeof value !== 'string') return undefined
    const nameBytes = Buffer.byteLength(name)
    if (nameBytes > shortStringMax) return undefined
    tableBytes += 1 + nameBytes + 1 + 4 + Buffer.byteLength(value)
  }
  flags |= 0x2000
  propertyBytes += 4 + tableBytes
  if (persistent !== undefined) {
    flags |= 0x1000
    propertyBytes += 1
  }
  if (priority !== undefined) {
    if (!Number.isInteger(priority) || priority < 0 || priority > 255) return undefined
    flags |= 0x0800
    propertyBytes += 1
  }
  if (correlationId !== undefined) {
    flags |= 0x0400
    propertyBytes += 1 + correlationIdBytes
  }
  if (replyTo !== undefined) {
    flags |= 0x0200
    propertyBytes += 1 + replyToBytes
  }
  if (expiration !== undefined) {
    flags |= 0x0100
    propertyBytes += 1 + expirationBytes
  }
  if (messageId !== undefined) {
    flags |= 0x0080
    propertyBytes += 1 + messageIdBytes
  }
  if (timestamp !== undefined) {
    if (!Number.isSafeInteger(timestamp) || timestamp < 0) return undefined
    flags |= 0x0040
    propertyBytes += 8
  }

  // amqplib's frameMax of 0 means no limit; a body larger than a frame goes in several, as amqplib cuts it.
  const maxBody = frameMax > frameOverhead ? frameMax - frameOverhead : 0xffffffff
  const bodyFrames = Math.ceil(content.length / maxBody)
  const methodPayload = 2 + 2 + 2 + 1 + exchangeBytes + 1 + routingKeyBytes + 1
  const headerPayload = 2 + 2 + 8 + 2 + propertyBytes
  const total = frameOverhead + methodPayload + frameOverhead + headerPayload + bodyFrames * frameOverhead + content.length
  const buffer = Buffer.allocUnsafe(total)

  let offset = buffer.writeUInt8(methodFrame, 0)
  offset = buffer.writeUInt16BE(channel, offset)
  offset = buffer.writeUInt32BE(methodPayload, offset)
  offset = buffer.writeUInt16BE(basicClass, offset)
  offset = buffer.writeUInt16BE(publishMethod, offset)
  offset = buffer.writeUInt16BE(0, offset) // ticket
  offset = shortString(buffer, offset, exchange, exchangeBytes)
  offset = shortString(buffer, offset, routingKey, routingKeyBytes)
  offset = buffer.writeUInt8(properties.mandatory === true ? 1 : 0, offset) // mandatory; immediate is never set
  offset = buffer.writeUInt8(frameEnd, offset)

  offset = buffer.writeUInt8(headerFrame, offset)
  offset = buffer.writeUInt16BE(channel, offset)
  offset = buffer.writeUInt32BE(headerPayload, offset)
  offset = buffer.writeUInt16BE(basicClass, offset)
  offset = buffer.writeUInt16BE(0, offset) // weight
  offset = buffer.writeUInt32BE(Math.floor(content.length / 0x100000000), offset)
  offset = buffer.writeUInt32BE(content.length >>> 0, offset)
  offset = buffer.writeUInt16BE(flags, offset)
  if (contentType !== undefined) offset = shortString(buffer, offset, contentType, contentTypeBytes)
  offset = buffer.writeUInt32BE(tableBytes, offset)
  for (const name in headers) {
    const value = headers[name]
    if (value === undefined) continue
    const nameBytes = buffer.write(name, offset + 1)
    offset = buffer.writeUInt8(nameBytes, offset) + nameBytes
    offset = buffer.writeUInt8(0x53, offset) // 'S': a long string, the type amqplib gives every string
    const valueBytes = buffer.write(value, offset + 4)
    offset = buffer.writeUInt32BE(valueBytes, offset) + valueBytes
  }
  if (persistent !== undefined) offset = buffer.writeUInt8(persistent ? 2 : 1, offset)
  if (priority !== undefined) offset = buffer.writeUInt8(priority, offset)
  if (correlationId !== undefined) offset = shortString(buffer, offset, correlationId, correlationIdBytes)
  if (replyTo !== undefined) offset = shortString(buffer, offset, replyTo, replyToBytes)
  if (expiration !== undefined) offset = shortString(buffer, offset, expiration, expirationBytes)
  if (messageId !== undefined) offset = shortString(buffer, offset, messageId, messageIdBytes)
  if (timestamp !== undefined) {
    offset = buffer.writeUInt32BE(Math.floor(timestamp / 0x100000000), offset)
    offset = buffer.writeUInt32BE(timestamp >>> 0, offset)
  }
  offset = buffer.writeUInt8(frameEnd, offset)

  for (let start = 0; start < content.length; start += maxBody) {
    const end = Math.min(start + maxBody, content.length)
    offset = buffer.writeUInt8(bodyFrame, offset)
    offset = buffer.writeUInt16BE(channel, offset)
    offset = buffer.writeUInt32BE(end - start, offset)
    offset += content.copy(buffer, offset, start, end)
    offset = buffer.writeUInt8(frameEnd, offset)
  }
  return buffer
}

function shortStringBytes(value: string | undefined): number {
  if (value === undefined) return 0
  const bytes = Buffer.byteLength(value)
  return bytes > shortStringMax ? -1 : bytes
}

function shortString(buffer: Buffer, offset: number, value: string, bytes: number): number {
  buffer[offset] = bytes
  if (bytes > 0) buffer.write(value, offset + 1)
  return offset + 1 + bytes
}
