/**
 * Collects the items added within one turn of the event loop and hands them to `flush` together, on
 * the next `setImmediate`, like {@link TurnBatch} — but every add of a flush shares that flush's one
 * promise, where `TurnBatch` makes a promise, its resolvers and an entry per item. For a flush that
 * succeeds or fails as a whole (one broker call, one socket write), which is what an ack batch is.
 *
 * Guarantees:
 * - every added item reaches `flush` exactly once, in the order added;
 * - the promise `add` returned settles with the flush carrying its item: it resolves when `flush`
 *   returns (or the promise it returned resolves), and rejects with the same error when `flush` throws
 *   or its promise rejects — every add of that flush alike;
 * - {@link drained} resolves once every item added before it was called has been flushed and that
 *   flush has settled (never rejecting: each add's promise carries the outcome), so a consumer closing
 *   leaves nothing unflushed behind it.
 *
 * Use `TurnBatch` where one flush gives its items different outcomes.
 */
export class SharedTurnBatch<T> {
  private items: T[] = []
  /** The flush the next add joins: scheduled, not started yet. */
  private next: Promise<void> | undefined
  /** Flushes scheduled or running, counted once each (not per item). */
  private unsettled = new Set<Promise<void>>()

  constructor(private readonly flush: (items: T[]) => void | Promise<void>) {}

  /** Adds an item to this turn's flush; the promise is that flush's, shared by every item in it. */
  add(item: T): Promise<void> {
    this.items.push(item)
    const joined = this.next
    if (joined !== undefined) return joined
    const flushed = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.run())
    this.next = flushed
    this.unsettled.add(flushed)
    const forget = (): void => {
      this.unsettled.delete(flushed)
    }
    // Also marks a rejection handled: each add's caller gets the outcome from the promise it holds.
    flushed.then(forget, forget)
    return flushed
  }

  /** Resolves once every flush scheduled or running when called (and any it led to) has settled. */
  async drained(): Promise<void> {
    while (this.unsettled.size > 0) await Promise.allSettled(this.unsettled)
  }

  private run(): void | Promise<void> {
    const items = this.items
    this.items = []
    this.next = undefined
    return this.flush(items)
  }
}
