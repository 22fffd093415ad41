import { randomFillSync } from 'node:crypto'

/** Ids per random draw: the last three hex digits of an id count through them. */
const idsPerBlock = 4096
/** `000` to `fff`, the counting part of an id. */
const lastDigits = Array.from({ length: idsPerBlock }, (_, index) => index.toString(16).padStart(3, '0'))
const random = Buffer.allocUnsafeSlow(16)
/** The first 33 characters of the current block's ids (random, version and variant set, dashes in place). */
let blockPrefix = ''
let nextInBlock = idsPerBlock

function drawBlock(): void {
  randomFillSync(random)
  random[6] = ((random[6] as number) & 0x0f) | 0x40
  random[8] = ((random[8] as number) & 0x3f) | 0x80
  const hex = random.toString('hex')
  blockPrefix = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 29)}`
  nextInBlock = 0
}

/**
 * The id of a message sent without one: a UUID in the version 4 layout
 * (`xxxxxxxx-xxxx-4xxx-[89ab]xxx-xxxxxxxxxxxx`), as unique as a random one across processes and restarts.
 * Its 110 random bits (the first 29 hex digits less the version and variant) are drawn from `crypto.randomFillSync` once per block of 4096 ids, and its last
 * three hex digits count through the block: consecutive ids of one process share their first 33
 * characters, so an id is not a secret (the next one of its block is guessable). Made as one string
 * joined to a shared prefix, ~10× cheaper than a fresh random UUID, a cost paid on every send.
 */
export function newMessageId(): string {
  if (nextInBlock === idsPerBlock) drawBlock()
  return blockPrefix + (lastDigits[nextInBlock++] as string)
}
