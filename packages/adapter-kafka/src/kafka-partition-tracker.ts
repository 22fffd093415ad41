/**
 * Offsets of one partition handed out and not yet settled. The commit point is the lowest unsettled
 * offset (or the next one when all are settled): never past a message still in flight.
 *
 * Offsets are handed out in increasing order, so they sit in a sorted array with a parallel array of
 * settled flags: a settle is a binary search, and no Map entry or boxed value is made per message.
 */
export class PartitionTracker {
  next: number
  /** What the broker confirmed for the current generation; `undefined` after a rejoin. */
  committed: number | undefined
  private offsets: number[] = []
  private settled: boolean[] = []
  /** Index of the lowest unsettled offset (`offsets.length` when every one is settled). */
  private head = 0

  constructor(
    readonly topic: string,
    readonly partition: number,
    first: number,
  ) {
    this.next = first
  }

  track(offset: number): void {
    this.offsets.push(offset)
    this.settled.push(false)
    this.next = offset + 1
  }

  /** An offset that needs no settling (filtered out). */
  skip(offset: number): void {
    this.next = offset + 1
  }

  settle(offset: number): void {
    // Handlers mostly finish in hand-out order: the lowest unsettled offset first, no search.
    const index = this.offsets[this.head] === offset ? this.head : this.indexOf(offset)
    if (index < 0 || this.settled[index]) return
    this.settled[index] = true
    while (this.head < this.offsets.length && this.settled[this.head]) this.head++
    if (this.head > 1024 && this.head * 2 > this.offsets.length) {
      this.offsets = this.offsets.slice(this.head)
      this.settled = this.settled.slice(this.head)
      this.head = 0
    }
  }

  get commitPoint(): number {
    return this.head < this.offsets.length ? (this.offsets[this.head] as number) : this.next
  }

  /** Index of an unsettled-or-settled offset at or after `head`; -1 when it is not tracked. */
  private indexOf(offset: number): number {
    let low = this.head
    let high = this.offsets.length - 1
    while (low <= high) {
      const middle = (low + high) >>> 1
      const found = this.offsets[middle] as number
      if (found === offset) return middle
      if (found < offset) low = middle + 1
      else high = middle - 1
    }
    return -1
  }
}
