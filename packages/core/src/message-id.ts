import { randomFillSync } from 'node:crypto'

/** Ids made from one fill of random bytes, as `crypto.randomUUID` caches its entropy. */
const idsPerFill = 256
/** An id and the separator that follows it in the block of text. */
const stride = 37
const random = Buffer.allocUnsafeSlow(16 * idsPerFill)
const digits = Buffer.from('0123456789abcdef', 'latin1')
/** Where the two hex digits of each of the 16 bytes go in an id. */
const digitAt = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34]
/** The text of 256 ids, dashes in place; the hex digits are written over on every fill. */
const text = Buffer.alloc(stride * idsPerFill, '00000000-0000-0000-0000-000000000000 ', 'latin1')
let block = ''
let nextId = idsPerFill

/** Writes 256 fresh v4 UUIDs into `text` and reads them out as one string. */
function refill(): void {
  randomFillSync(random)
  for (let id = 0; id < idsPerFill; id++) {
    const from = id * 16
    const to = id * stride
    random[from + 6] = ((random[from + 6] as number) & 0x0f) | 0x40
    random[from + 8] = ((random[from + 8] as number) & 0x3f) | 0x80
    for (let index = 0; index < 16; index++) {
      const byte = random[from + index] as number
      const at = to + (digitAt[index] as number)
      text[at] = digits[byte >> 4] as number
      text[at + 1] = digits[byte & 15] as number
    }
  }
  block = text.toString('latin1')
  nextId = 0
}

/**
 * A random (version 4) UUID, from the same cryptographic source as `crypto.randomUUID`, as the id of a
 * message sent without one. 256 ids are written as bytes and read out as one string, and each id is a
 * slice of it: `randomUUID` builds its string from 20 pieces (~10× the garbage), and reading one id
 * out of a Buffer per send cost more than making it. A slice keeps its block alive (37 bytes per id).
 */
export function newMessageId(): string {
  if (nextId === idsPerFill) refill()
  const start = nextId++ * stride
  return block.slice(start, start + 36)
}
