/** Items cut into calls of at most `maxCount` items and `maxBytes` (by `sizeOf`), in order: PutRecords', PutEvents' limits. */
export function splitAtLimits<T>(items: T[], maxCount: number, maxBytes: number, sizeOf: (item: T) => number): T[][] {
  const calls: T[][] = []
  let current: T[] = []
  let bytes = 0
  for (const item of items) {
    const size = sizeOf(item)
    if (current.length === maxCount || (current.length > 0 && bytes + size > maxBytes)) {
      calls.push(current)
      current = []
      bytes = 0
    }
    current.push(item)
    bytes += size
  }
  if (current.length > 0) calls.push(current)
  return calls
}

/**
 * Calls `put` with the items, then again with only those it refused (`put` returns the indexes it
 * refused), with backoff, up to `attempts` calls: how AWS batch APIs with partial failures are used.
 */
export async function putRefusedAgain<T>(items: T[], attempts: number, put: (items: T[]) => Promise<number[]>): Promise<void> {
  let pending = items
  for (let attempt = 1; pending.length > 0; attempt++) {
    const refused = await put(pending)
    if (refused.length === 0) return
    if (attempt === attempts) throw new Error(`${refused.length} entries refused ${attempt} times`)
    pending = refused.map((index) => pending[index] as T)
    await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt))
  }
}
