import { describe, expect, it } from 'vitest'
import { SharedTurnBatch } from '../src/spi/shared-turn-batch.js'

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('SharedTurnBatch', () => {
  it('hands the items of one turn to one flush, in order, each exactly once, and the next turn to the next', async () => {
    const flushes: number[][] = []
    const batch = new SharedTurnBatch<number>((items) => {
      flushes.push([...items])
    })
    const first = [batch.add(1), batch.add(2), batch.add(3)]
    expect(flushes).toEqual([])
    await Promise.all(first)
    await batch.add(4)
    expect(flushes).toEqual([[1, 2, 3], [4]])
  })

  it('settles every add of a flush only once the flush it returned settles', async () => {
    let finish: (() => void) | undefined
    const batch = new SharedTurnBatch<string>(
      () =>
        new Promise<void>((resolve) => {
          finish = resolve
        }),
    )
    let settled = 0
    const adds = [batch.add('a'), batch.add('b')].map((added) => added.then(() => settled++))
    await nextTurn()
    await nextTurn()
    expect(finish).toBeDefined()
    expect(settled).toBe(0)
    finish?.()
    await Promise.all(adds)
    expect(settled).toBe(2)
  })

  it('rejects every add of a flush that throws or rejects with its error, and only those', async () => {
    let call = 0
    const batch = new SharedTurnBatch<string>((items) => {
      call++
      if (call === 1) throw new Error(`could not send ${items.join(',')}`)
      if (call === 2) return Promise.reject(new Error(`broker refused ${items.join(',')}`))
    })
    const thrown = await Promise.allSettled([batch.add('a'), batch.add('b')])
    const rejected = await Promise.allSettled([batch.add('c'), batch.add('d')])
    const fine = await Promise.allSettled([batch.add('e')])
    expect(thrown).toEqual([
      { status: 'rejected', reason: new Error('could not send a,b') },
      { status: 'rejected', reason: new Error('could not send a,b') },
    ])
    expect(rejected.map((outcome) => outcome.status)).toEqual(['rejected', 'rejected'])
    expect(rejected[1]).toMatchObject({ reason: { message: 'broker refused c,d' } })
    expect(fine).toEqual([{ status: 'fulfilled', value: undefined }])
  })

  it('drained waits for flushes scheduled and running, and does not reject when one failed', async () => {
    const done: string[] = []
    let release: (() => void) | undefined
    const batch = new SharedTurnBatch<string>(async (items) => {
      await new Promise<void>((resolve) => {
        release = resolve
      })
      done.push(...items)
      if (items.includes('bad')) throw new Error('flush failed')
    })
    const add = batch.add('x')
    const bad = batch.add('bad')
    add.catch(() => {})
    bad.catch(() => {})
    let drained = false
    const draining = batch.drained().then(() => {
      drained = true
    })
    await nextTurn()
    await nextTurn()
    expect(drained).toBe(false)
    release?.()
    await draining
    expect(done).toEqual(['x', 'bad'])
    await expect(batch.drained()).resolves.toBeUndefined()
  })

  it('drained resolves at once when nothing was added', async () => {
    const batch = new SharedTurnBatch<number>(() => {})
    await expect(batch.drained()).resolves.toBeUndefined()
  })
})
