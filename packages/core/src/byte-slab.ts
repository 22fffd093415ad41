const slabBytes = 64 * 1024
/** Larger pieces get a buffer of their own: a slab is shared by at least 16 of them. */
const largestPooled = 4 * 1024

let slab = Buffer.allocUnsafeSlow(slabBytes)
let used = 0

/**
 * A `Buffer` over a piece of the slab, made as Node makes its own (a `Uint8Array` subclass on
 * `Buffer.prototype`, `constructor` Buffer) without `subarray`'s argument handling, which cost about
 * twice the view itself on every send.
 */
class SlabView extends Uint8Array {}
Object.setPrototypeOf(SlabView.prototype, Buffer.prototype)
Object.defineProperty(SlabView.prototype, 'constructor', { value: Buffer, writable: true, configurable: true })

function view(offset: number, length: number): Buffer {
  return new SlabView(slab.buffer, offset, length) as unknown as Buffer
}

/**
 * Where `length` bytes can go in the current slab, a fresh one when they would not fit. A slab is taken
 * with `allocUnsafeSlow`: never zero-filled (every byte handed out is written first), and ~8× cheaper
 * than `new ArrayBuffer` at this size, whose zero-filling was most of what a copy cost.
 */
function reserve(length: number): number {
  if (used + length > slabBytes) {
    slab = Buffer.allocUnsafeSlow(slabBytes)
    used = 0
  }
  return used
}

/** Advances past `length` bytes, keeping the next piece 8-byte aligned. */
function take(length: number): void {
  used += (length + 7) & ~7
}

/**
 * A private copy of `bytes`, for an adapter that keeps messages (the memory broker). Copies up to
 * 4 KiB are carved out of a shared 64 KiB slab (as Node's own 8 KiB Buffer pool does, with fewer
 * allocations for 1 KiB messages), so a small copy costs a `memcpy` and a view, not an allocation of
 * its own. A slab lives as long as any piece of it. A plain `Uint8Array` (cheaper to make than a `Buffer` view).
 */
export function copyBytes(bytes: Uint8Array): Uint8Array {
  const length = bytes.byteLength
  if (length > largestPooled) {
    const own = Buffer.from(bytes)
    return new Uint8Array(own.buffer, own.byteOffset, length)
  }
  const offset = reserve(length)
  slab.set(bytes, offset)
  take(length)
  return new Uint8Array(slab.buffer, offset, length)
}

/** {@link copyBytes} as a `Buffer`, for codecs: what they hand to adapters stays a `Buffer`, as broker clients expect. */
export function copyToBuffer(bytes: Uint8Array): Buffer {
  const length = bytes.byteLength
  if (length > largestPooled) return Buffer.from(bytes)
  const offset = reserve(length)
  slab.set(bytes, offset)
  take(length)
  return view(offset, length)
}

/** The UTF-8 bytes of `text`, written straight into the shared slab when small (no byte-length pass, no pool of 8 KiB per few messages). */
export function utf8Bytes(text: string): Buffer {
  // A UTF-16 unit takes at most 3 bytes in UTF-8 (a surrogate pair, two units, takes 4).
  const most = text.length * 3
  if (most > largestPooled) return Buffer.from(text, 'utf8')
  const offset = reserve(most)
  const length = slab.write(text, offset, most, 'utf8')
  take(length)
  return view(offset, length)
}
