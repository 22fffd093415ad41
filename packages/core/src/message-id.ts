import { randomFillSync } from 'node:crypto'

/** Ids made from one fill of random bytes, as `crypto.randomUUID` caches its entropy. */
const idsPerFill = 256
const random = Buffer.allocUnsafeSlow(16 * idsPerFill)
let nextId = idsPerFill
const digits = Buffer.from('0123456789abcdef', 'latin1')
/** The 36 characters of an id, dashes in place; the hex digits are written over on every call. */
const text = Buffer.from('00000000-0000-0000-0000-000000000000', 'latin1')
/** Where the two hex digits of each of the 16 bytes go in `text`. */
const digitAt = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34]

/**
 * A random (version 4) UUID, from the same cryptographic source as `crypto.randomUUID`, as the id of a
 * message sent without one. Written as bytes and read out as one string: `randomUUID` builds its
 * string from 20 pieces (~10× the garbage), a cost paid on every send.
 */
export function newMessageId(): string {
  if (nextId === idsPerFill) {
    randomFillSync(random)
    nextId = 0
  }
  const offset = nextId++ * 16
  random[offset + 6] = ((random[offset + 6] as number) & 0x0f) | 0x40
  random[offset + 8] = ((random[offset + 8] as number) & 0x3f) | 0x80
  for (let index = 0; index < 16; index++) {
    const byte = random[offset + index] as number
    const at = digitAt[index] as number
    text[at] = digits[byte >> 4] as number
    text[at + 1] = digits[byte & 15] as number
  }
  return text.toString('latin1', 0, 36)
}
