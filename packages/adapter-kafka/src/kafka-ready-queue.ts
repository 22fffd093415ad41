import type { Item } from './kafka-delivery.js'

/**
 * Records fetched and not handed out yet, in hand-out order, with the total size of their bodies:
 * the consumer bounds its read-ahead by both, so that 64 KB records do not fill memory where 1 KB
 * ones would not.
 */
export class ReadyQueue<T extends Item = Item> {
  private items: T[] = []
  /** Index of the first queued item: `shift()` moves it instead of moving every item down. */
  private head = 0
  /** Sum of the body sizes of the queued items. */
  bytes = 0

  get length(): number {
    return this.items.length - this.head
  }

  push(item: T): void {
    this.items.push(item)
    this.bytes += item.message.body.byteLength
  }

  /** Puts an item first (handed back, to be handed out again before the rest). */
  unshift(item: T): void {
    if (this.head > 0) this.items[--this.head] = item
    else this.items.unshift(item)
    this.bytes += item.message.body.byteLength
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined
    const item = this.items[this.head] as T
    this.items[this.head++] = undefined as unknown as T
    this.bytes -= item.message.body.byteLength
    if (this.head === this.items.length) {
      this.items = []
      this.head = 0
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return item
  }

  /** Keeps the items `keep` says yes to, in order. */
  retain(keep: (item: T) => boolean): void {
    this.items = this.items.slice(this.head).filter(keep)
    this.head = 0
    this.bytes = 0
    for (const item of this.items) this.bytes += item.message.body.byteLength
  }

  clear(): void {
    this.items = []
    this.head = 0
    this.bytes = 0
  }
}
