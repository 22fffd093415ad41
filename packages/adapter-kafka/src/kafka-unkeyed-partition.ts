/**
 * Where an unkeyed record goes, on both drivers: a hash of its anymq message id, so that records
 * spread over every partition (consumers of a group share the work) and a resend of the same
 * record lands where it landed before (see `kafkajs-partitioner.ts` for why a retry must).
 * Returns a non-negative 32-bit number; the caller takes it modulo the partition count.
 */
export function unkeyedPartitionHash(id: string): number {
  // 32-bit FNV-1a: small, fast, and the same on every run (no seed).
  let hash = 0x811c9dc5
  for (let index = 0; index < id.length; index++) {
    hash ^= id.charCodeAt(index)
    hash = Math.imul(hash, 0x01000193)
  }
  return hash >>> 0
}
