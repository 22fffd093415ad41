/** One item of a {@link TurnBatch}, with the settlement of the promise its caller holds. */
export interface TurnBatchEntry<T> {
  readonly item: T
  resolve(): void
  reject(error: unknown): void
}

/**
 * Collects the items added within one turn of the event loop and hands them to `flush` together, on
 * the next `setImmediate`, so that an adapter makes one broker call or one socket write for many acks
 * instead of one each. Guarantees: every added item reaches `flush` exactly once, in the order added;
 * the promise `add` returned settles only when `flush` settles its entry (and rejects when `flush`
 * throws before doing so).
 */
export class TurnBatch<T> {
  private pending: TurnBatchEntry<T>[] = []
  private scheduled = false

  constructor(private readonly flush: (entries: TurnBatchEntry<T>[]) => void) {}

  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject })
      if (!this.scheduled) {
        this.scheduled = true
        setImmediate(() => this.run())
      }
    })
  }

  private run(): void {
    this.scheduled = false
    const entries = this.pending
    this.pending = []
    try {
      this.flush(entries)
    } catch (error) {
      // Settling twice is a no-op, so entries flush settled before it threw keep their outcome.
      for (const entry of entries) entry.reject(error)
    }
  }
}
