/**
 * The mandatory publishes of one channel still waiting for their confirm, oldest first, for a
 * `basic.return` to find its message. An array trimmed from the front, as amqplib keeps its own
 * confirm callbacks, rather than a `Set`: publishing 64 in flight, every minor GC promoted 0.4–1 MB
 * with the `Set` (publishes alive when it was last rehashed, with their bodies and callbacks, kept
 * until a full GC: V8 links a rehashed table to its successor, so once one table is old the chain
 * holds the young ones) and ~0 with the array, as with raw amqplib (`node --trace-gc-nvp`).
 */
export class MandatoryPublishes<T> {
  private readonly entries: (T | undefined)[] = []
  /** Entries trimmed from the front so far: the entry of ticket `n` is at `entries[n - trimmed]`. */
  private trimmed = 0

  /** Adds one; returns its ticket for {@link remove}. */
  add(entry: T): number {
    this.entries.push(entry)
    return this.trimmed + this.entries.length - 1
  }

  remove(ticket: number): void {
    const entries = this.entries
    const index = ticket - this.trimmed
    if (index < 0 || index >= entries.length) return
    entries[index] = undefined
    // Confirms come mostly in publish order: the front is usually the entry just removed.
    while (entries.length > 0 && entries[0] === undefined) {
      entries.shift()
      this.trimmed++
    }
  }

  /** The oldest entry still waiting that `matches`. */
  find(matches: (entry: T) => boolean): T | undefined {
    for (const entry of this.entries) if (entry !== undefined && matches(entry)) return entry
    return undefined
  }
}
