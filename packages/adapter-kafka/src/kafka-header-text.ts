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

/**
 * The common texts by byte length (the index), each with its UTF-8 bytes (all of them are ASCII). An
 * array, not a Map: the lookup by length was the top line of the driver's record conversion in a CPU
 * profile of a 100 B consume.
 */
// Packed, with no holes, and longer than an id (36 bytes): the common lookups stay in bounds.
const commonByLength: Array<Array<{ bytes: Buffer; text: string }> | undefined> = Array.from({ length: 64 }, () => undefined)
for (const text of new Set(commonTexts)) {
  const bytes = Buffer.from(text)
  while (commonByLength.length <= bytes.length) commonByLength.push(undefined)
  const sameLength = commonByLength[bytes.length] ?? []
  sameLength.push({ bytes, text })
  commonByLength[bytes.length] = sameLength
}

/** A header name or value as UTF-8 text; one of the common ones is the same string every time. */
export function headerText(bytes: Buffer): string {
  // Past the end (a longer text) reads undefined too.
  const candidates = commonByLength[bytes.length]
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
