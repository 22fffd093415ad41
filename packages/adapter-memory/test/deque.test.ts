import { describe, expect, it } from 'vitest'
import { Deque } from '../src/deque.js'

describe('deque', () => {
  it('keeps the order of an array through pushes, unshifts, shifts and removals, across wrap-arounds and growth', () => {
    const deque = new Deque<number>()
    const model: number[] = []
    // A fixed pseudo-random sequence (LCG): the same operations on every run.
    let seed = 7
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648
      return seed
    }
    for (let step = 0; step < 20_000; step++) {
      const choice = next() % 10
      if (choice < 4) {
        deque.push(step)
        model.push(step)
      } else if (choice < 5) {
        deque.unshift(step)
        model.unshift(step)
      } else if (choice < 9) {
        expect(deque.shift()).toBe(model.shift())
      } else if (model.length > 0) {
        const index = next() % model.length
        expect(deque.removeAt(index)).toBe(model.splice(index, 1)[0])
      }
      expect(deque.length).toBe(model.length)
      if (step % 997 === 0) {
        expect([...deque]).toEqual(model)
        expect(deque.at(model.length)).toBeUndefined()
        if (model.length > 0) expect(deque.at(model.length - 1)).toBe(model[model.length - 1])
      }
    }
    // Grown well past its first 16 slots, and emptied again.
    for (let item = 0; item < 1000; item++) deque.push(item)
    while (deque.length > 0) deque.shift()
    expect(deque.shift()).toBeUndefined()
  })
})
