import { describe, expect, it } from 'vitest'
import { LeaseList, type Linked } from '../src/lease-list.js'

class Item implements Linked<Item> {
  previous: Item | undefined = undefined
  next: Item | undefined = undefined
  listed = false
  constructor(readonly name: string) {}
}

const names = (list: LeaseList<Item>) => list.toArray().map((item) => item.name)

describe('LeaseList', () => {
  it('keeps hand-out order through removals at the front, the middle and the end', () => {
    const list = new LeaseList<Item>()
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => new Item(name)) as [Item, Item, Item, Item]
    for (const item of [a, b, c, d]) list.add(item)
    expect(names(list)).toEqual(['a', 'b', 'c', 'd'])
    list.delete(b)
    expect(names(list)).toEqual(['a', 'c', 'd'])
    list.delete(a)
    list.delete(d)
    expect(names(list)).toEqual(['c'])
    expect([list.has(a), list.has(c), list.size]).toEqual([false, true, 1])
    list.add(a)
    expect(names(list)).toEqual(['c', 'a'])
  })

  it('ignores a second delete of the same item (the size stays right)', () => {
    const list = new LeaseList<Item>()
    const [a, b] = [new Item('a'), new Item('b')]
    list.add(a)
    list.add(b)
    list.delete(a)
    list.delete(a)
    expect(list.size).toBe(1)
    expect(names(list)).toEqual(['b'])
    list.delete(b)
    expect([list.size, names(list)]).toEqual([0, []])
  })
})
