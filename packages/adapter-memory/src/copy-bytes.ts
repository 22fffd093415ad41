const slabBytes = 64 * 1024
const largestPooled = 4 * 1024
let slab = new ArrayBuffer(slabBytes)
let used = 0

/**
 * A private copy of `bytes`. Copies up to 4 KiB are carved out of a shared 64 KiB slab (as Node's
 * Buffer pool does), so a small message costs no allocation of its own: a fresh ArrayBuffer per copy
 * was the largest cost of the memory broker after JSON itself. Larger copies get their own buffer.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const length = bytes.byteLength
  if (length > largestPooled) return new Uint8Array(bytes)
  if (used + length > slabBytes) {
    slab = new ArrayBuffer(slabBytes)
    used = 0
  }
  const copy = new Uint8Array(slab, used, length)
  copy.set(bytes)
  used += (length + 7) & ~7
  return copy
}
