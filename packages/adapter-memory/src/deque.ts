/**
 * First-in first-out buffer with O(1) push, shift and unshift (a plain array's shift is O(n)). Its
 * capacity is a power of two, so a position wraps with a mask rather than a division.
 */
export class Deque<T> {
  private items: (T | undefined)[] = new Array(16)
  /** `items.length - 1`. */
  private mask = 15
  private head = 0
  private count = 0

  get length(): number {
    return this.count
  }

  push(item: T): void {
    if (this.count === this.items.length) this.grow()
    this.items[(this.head + this.count) & this.mask] = item
    this.count++
  }

  unshift(item: T): void {
    if (this.count === this.items.length) this.grow()
    this.head = (this.head - 1) & this.mask
    this.items[this.head] = item
    this.count++
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined
    const item = this.items[this.head]
    this.items[this.head] = undefined
    this.head = (this.head + 1) & this.mask
    this.count--
    return item
  }

  at(index: number): T | undefined {
    return index < this.count ? this.items[(this.head + index) & this.mask] : undefined
  }

  /** Removes the item at `index` (O(n), used only to skip over a key that is busy). */
  removeAt(index: number): T | undefined {
    if (index === 0) return this.shift()
    const item = this.at(index)
    for (let i = index; i < this.count - 1; i++) {
      this.items[(this.head + i) & this.mask] = this.items[(this.head + i + 1) & this.mask]
    }
    this.items[(this.head + this.count - 1) & this.mask] = undefined
    this.count--
    return item
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.count; i++) yield this.items[(this.head + i) & this.mask] as T
  }

  private grow(): void {
    const next = new Array<T | undefined>(this.items.length * 2)
    for (let i = 0; i < this.count; i++) next[i] = this.items[(this.head + i) & this.mask]
    this.items = next
    this.mask = next.length - 1
    this.head = 0
  }
}
