/**
 * amqplib decodes a 64-bit integer header ('l') with `Number(readBigInt64BE())`, which rounds every
 * value beyond ±2^53. When a decoded content header holds such a rounded number, this reads that
 * header's table again from the frame's own bytes and puts the exact value there, as a decimal string.
 * Only frames with an unsafe integer header cost anything beyond keeping a reference to their bytes.
 */

/** The part of amqplib's (internal) Connection this needs: its frame reader and its socket. */
interface FrameReader {
  recvFrame(): unknown
  rest: Buffer
  stream: { read(size?: number): Buffer | null }
}

interface DecodedHeaderFrame {
  size?: number
  fields?: { headers?: Record<string, unknown> }
}

/** Installs the repair on one amqplib connection (`ChannelModel.connection`); a shape it does not know is left alone. */
export function keepExactLongHeaders(connection: unknown): void {
  const reader = connection as Partial<FrameReader>
  if (typeof reader.recvFrame !== 'function' || !Buffer.isBuffer(reader.rest) || typeof reader.stream?.read !== 'function') return
  const target = reader as FrameReader
  const stream = target.stream
  const read = stream.read
  const recvFrame = target.recvFrame
  let depth = 0
  let chunks: Buffer[] = []
  stream.read = function (this: unknown, size?: number) {
    const chunk = read.call(this, size)
    if (depth > 0 && chunk) chunks.push(chunk)
    return chunk
  }
  target.recvFrame = function (this: FrameReader) {
    // amqplib's reader calls itself again after reading more from the socket.
    if (depth > 0) return recvFrame.call(this)
    const before = this.rest
    // A new list only when the last frame needed one: this runs for every frame received.
    if (chunks.length > 0) chunks = []
    depth++
    let frame: unknown
    try {
      frame = recvFrame.call(this)
    } finally {
      depth--
    }
    const decoded = frame === false ? undefined : (frame as DecodedHeaderFrame | undefined)
    const headers = decoded?.fields?.headers
    if (decoded?.size !== undefined && headers && hasRoundedInteger(headers)) {
      const received = chunks.length === 0 ? before : Buffer.concat([before, ...chunks])
      const exact = longHeaders(received.subarray(0, received.length - this.rest.length))
      for (const [name, value] of exact) if (name in headers) headers[name] = value
    }
    if (chunks.length > 0) chunks = []
    return frame
  }
}

function hasRoundedInteger(headers: Record<string, unknown>): boolean {
  for (const name in headers) {
    const value = headers[name]
    if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)) return true
  }
  return false
}

/** The 64-bit integer entries of a content header frame's headers table, as exact decimal strings. */
export function longHeaders(frame: Buffer): Map<string, string> {
  const found = new Map<string, string>()
  // Frame: type (1), channel (2), size (4), payload. Payload: class (2), weight (2), body size (8), flags (2).
  let offset = 7 + 12
  if (frame.length < offset + 2) return found
  const flags = frame.readUInt16BE(offset)
  offset += 2
  if (flags & 0x8000) offset += 1 + frame[offset]! // content-type
  if (flags & 0x4000) offset += 1 + frame[offset]! // content-encoding
  if (!(flags & 0x2000) || frame.length < offset + 4) return found
  const end = offset + 4 + frame.readUInt32BE(offset)
  offset += 4
  if (end > frame.length) return found
  while (offset < end) {
    const nameLength = frame[offset]!
    const name = frame.toString('utf8', offset + 1, offset + 1 + nameLength)
    offset += 1 + nameLength
    const type = String.fromCharCode(frame[offset]!)
    offset += 1
    if (type === 'l') found.set(name, frame.readBigInt64BE(offset).toString())
    const size = valueSize(type, frame, offset)
    if (size === undefined) return found
    offset += size
  }
  return found
}

/** Bytes a field value of `type` takes at `offset` (AMQP 0-9-1 as RabbitMQ writes it). */
function valueSize(type: string, frame: Buffer, offset: number): number | undefined {
  switch (type) {
    case 't':
    case 'b':
    case 'B':
      return 1
    case 's':
    case 'u':
      return 2
    case 'I':
    case 'i':
    case 'f':
      return 4
    case 'D':
      return 5
    case 'l':
    case 'd':
    case 'T':
      return 8
    case 'V':
      return 0
    case 'S':
    case 'A':
    case 'F':
    case 'x':
      return 4 + frame.readUInt32BE(offset)
    default:
      return undefined
  }
}
