/**
 * Where an unkeyed record goes, on both drivers: a hash of its anymq message id, so that records
 * spread over every partition (consumers of a group share the work) and a resend of the same
 * record lands where it landed before (see `kafkajs-partitioner.ts` for why a retry must).
 * Returns a non-negative 32-bit number; the caller takes it modulo the partition count.
 * 32-bit FNV-1a over the id's UTF-8 bytes: small, fast, and the same on every run (no seed).
 */
export function unkeyedPartitionHash(id: string): number {
  let hash = 0x811c9dc5
  for (let index = 0; index < id.length; index++) {
    const code = id.charCodeAt(index)
    // Beyond ASCII a code unit is not a byte: hash the UTF-8 bytes, as the bytes variant does.
    if (code > 0x7f) return unkeyedPartitionHashOfBytes(Buffer.from(id))
    hash ^= code
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}

/**
 * The same hash over the id's UTF-8 bytes, for a driver that encodes the id for its header anyway:
 * reading bytes skips reading the characters of a joined string (anymq's ids are a shared prefix plus
 * a counter), the largest own frame of the platformatic driver's send in a CPU profile.
 */
export function unkeyedPartitionHashOfBytes(bytes: Uint8Array): number {
  let hash = 0x811c9dc5
  for (let index = 0; index < bytes.length; index++) {
    hash ^= bytes[index] as number
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}
