import { describe, expect, it } from 'vitest'
import { TurnBatch, type TurnBatchEntry } from '../src/spi/turn-batch.js'

describe('TurnBatch', () => {
  it('hands the items of one turn to flush together, in order, and settles each caller with its entry', async () => {
    const flushes: number[][] = []
    const batch = new TurnBatch<number>((entries) => {
      flushes.push(entries.map((entry) => entry.item))
      for (const entry of entries) {
        if (entry.item === 2) entry.reject(new Error('two refused'))
        else entry.resolve()
      }
    })
    const first = [batch.add(1), batch.add(2), batch.add(3)]
    const outcomes = await Promise.allSettled(first)
    await batch.add(4)
    expect(flushes).toEqual([[1, 2, 3], [4]])
    expect(outcomes.map((outcome) => outcome.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
  })

  it('rejects every unsettled entry when flush throws, keeping those it settled before', async () => {
    const batch = new TurnBatch<string>((entries: TurnBatchEntry<string>[]) => {
      entries[0]?.resolve()
      throw new Error('broker call could not be made')
    })
    const outcomes = await Promise.allSettled([batch.add('a'), batch.add('b')])
    expect(outcomes[0]?.status).toBe('fulfilled')
    expect(outcomes[1]).toMatchObject({ status: 'rejected', reason: { message: 'broker call could not be made' } })
  })
})
