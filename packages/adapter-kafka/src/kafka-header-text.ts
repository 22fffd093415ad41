import { wireHeaders } from '@anymq/core/spi'
import { kafkaHeaders } from './kafka-wire.js'

/**
 * The header names anymq writes and the content types most records carry: every record repeats a
 * few of them, so a consumer compares the bytes with these instead of decoding a new string each time
 * (header decoding was the adapter's largest own cost in a CPU profile of a 1 KB consume).
 */
const commonTexts = [
  ...Object.values(kafkaHeaders),
  ...Object.values(wireHeaders).filter((name) => name !== wireHeaders.prefix),
  'application/json',
  'application/octet-stream',
  'text/plain',
  'text/plain; charset=utf-8',
  'content-type',
]

/** The common texts by byte length, each with its UTF-8 bytes (all of them are ASCII). */
const commonByLength = new Map<number, Array<{ bytes: Buffer; text: string }>>()
for (const text of new Set(commonTexts)) {
  const bytes = Buffer.from(text)
  const sameLength = commonByLength.get(bytes.length) ?? []
  sameLength.push({ bytes, text })
  commonByLength.set(bytes.length, sameLength)
}

/** A header name or value as UTF-8 text; one of the common ones is the same string every time. */
export function headerText(bytes: Buffer): string {
  const candidates = commonByLength.get(bytes.length)
  if (candidates !== undefined) {
    next: for (let index = 0; index < candidates.length; index++) {
      const candidate = candidates[index] as { bytes: Buffer; text: string }
      const expected = candidate.bytes
      // From the end: anymq's names share their first eight bytes (`x-anymq-`).
      for (let at = bytes.length - 1; at >= 0; at--) if (bytes[at] !== expected[at]) continue next
      return candidate.text
    }
  }
  // No arguments: Buffer's own fast path (UTF-8, whole buffer), without the encoding lookup.
  return bytes.toString()
}
