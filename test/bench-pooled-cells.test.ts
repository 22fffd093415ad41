import { describe, expect, it } from 'vitest'
import { type CellResult, poolCells, summarize } from '../bench/src/results.js'
import type { Measurement } from '../bench/src/workloads.js'

const run = (cpuMsPerThousand: number, rate: number): Measurement => ({
  messages: 1000,
  completed: 1000,
  wallMs: 1000,
  cpuMs: cpuMsPerThousand,
  rate,
  duplicates: 0,
  timedOut: false,
})

function cell(broker: string, id: string, anymq: Measurement[], raw: Measurement[], error?: string): CellResult {
  return { broker, id, group: 'publish', label: id, bytes: 1024, messages: 1000, measures: 'throughput', anymq, raw, ...(error ? { error } : {}) }
}

describe('pooling the runs of several bench result files (pnpm bench:check --results a.json,b.json)', () => {
  it('takes the median over every run of a cell, not the last file’s two', () => {
    // First file: anymq 29 and 14 µs/msg (one slow run); second file: 13 and 15.
    const first = cell('rabbitmq', 'consume-c16-100', [run(29, 100), run(14, 200)], [run(20, 150), run(19, 160)])
    const second = cell('rabbitmq', 'consume-c16-100', [run(13, 210), run(15, 190)], [run(18, 170), run(21, 140)])
    const [pooled, ...rest] = poolCells([first, second])
    expect(rest).toEqual([])
    expect(pooled?.anymq).toHaveLength(4)
    expect(pooled?.raw).toHaveLength(4)
    const summary = summarize(pooled as CellResult)
    // Median of 13, 14, 15, 29 µs/msg is 14.5; the second file alone would say 14, the first 21.5.
    expect(summary.anymqCpuMicros).toBeCloseTo(14.5)
    expect(summary.rawCpuMicros).toBeCloseTo(19.5)
    expect(summary.ratio).toBeCloseTo(195 / 155)
  })

  it('keeps cells apart by broker and id, leaves its inputs as they were, and keeps a failed run’s error', () => {
    const anymqRuns = [run(10, 100)]
    const a = cell('redis', 'publish-batch-100', anymqRuns, [run(5, 120)])
    const b = cell('redis-node', 'publish-batch-100', [run(8, 100)], [run(6, 110)])
    const c = cell('redis', 'publish-batch-100', [], [], 'raw side: timed out')
    const pooled = poolCells([a, b, c])
    expect(pooled.map((entry) => `${entry.broker}/${entry.id}`)).toEqual(['redis/publish-batch-100', 'redis-node/publish-batch-100'])
    expect(pooled[0]?.error).toBe('raw side: timed out')
    expect(pooled[0]?.anymq).toHaveLength(1)
    expect(anymqRuns).toHaveLength(1)
    expect(a.error).toBeUndefined()
  })
})
