/** What a {@link LeaseList} links through: fields on the item itself, so adding one allocates nothing. */
export interface Linked<T> {
  previous: T | undefined
  next: T | undefined
  listed: boolean
}

/**
 * The deliveries out on lease, in the order they were handed out: a list linked through the leases
 * themselves. Adding, removing and asking whether one is held cost a few field writes, where a `Set`
 * hashed every new lease.
 */
export class LeaseList<T extends Linked<T>> {
  private first: T | undefined = undefined
  private last: T | undefined = undefined
  size = 0

  add(item: T): void {
    item.previous = this.last
    item.next = undefined
    if (this.last === undefined) this.first = item
    else this.last.next = item
    this.last = item
    item.listed = true
    this.size++
  }

  has(item: T): boolean {
    return item.listed
  }

  /** Removes `item`; does nothing when it is not listed. */
  delete(item: T): void {
    if (!item.listed) return
    if (item.previous === undefined) this.first = item.next
    else item.previous.next = item.next
    if (item.next === undefined) this.last = item.previous
    else item.next.previous = item.previous
    item.previous = undefined
    item.next = undefined
    item.listed = false
    this.size--
  }

  /** The listed items, oldest first, as an array (safe to delete from while walking it). */
  toArray(): T[] {
    const items: T[] = []
    for (let item = this.first; item !== undefined; item = item.next) items.push(item)
    return items
  }
}
