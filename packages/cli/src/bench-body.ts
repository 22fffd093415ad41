/** The JSON body every benchmark message carries; `pad` fills it to the requested encoded size. */
export interface BenchBody {
  /** Identifies the run, so leftovers of an earlier run on the same queue are recognised and skipped. */
  run: string
  /** 0-based sequence number; negative for warm-up messages that are never counted. */
  seq: number
  /** `performance.timeOrigin + performance.now()` when the message was sent, in milliseconds. */
  sentAt: number
  pad: string
}

const encoder = new TextEncoder()

/** Milliseconds since the epoch with sub-millisecond precision (one clock for sender and receiver in one process). */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now()
}

/**
 * Builds bodies whose JSON encoding is `bytes` long (give or take the digits of `seq`): the padding is
 * computed once per size, so building one costs what building any small object costs.
 */
export function bodyFactory(run: string, bytes: number): (seq: number) => BenchBody {
  const probe: BenchBody = { run, seq: 1_000_000, sentAt: preciseNow(), pad: '' }
  const overhead = encoder.encode(JSON.stringify(probe)).length
  const pad = 'x'.repeat(Math.max(0, bytes - overhead))
  return (seq) => ({ run, seq, sentAt: preciseNow(), pad })
}

/** A short random run id. */
export function newRunId(): string {
  return Math.random().toString(36).slice(2, 10)
}

/**
 * Counts each sequence number once (at-least-once delivery may repeat some): `add` returns false for
 * a duplicate. A bitmap, so a million messages cost 125 kB.
 */
export class SequenceTracker {
  private readonly seen: Uint8Array
  unique = 0
  duplicates = 0

  constructor(readonly total: number) {
    this.seen = new Uint8Array(Math.ceil(total / 8))
  }

  add(seq: number): boolean {
    if (!Number.isInteger(seq) || seq < 0 || seq >= this.total) return false
    const index = seq >> 3
    const bit = 1 << (seq & 7)
    if (((this.seen[index] as number) & bit) !== 0) {
      this.duplicates++
      return false
    }
    this.seen[index] = (this.seen[index] as number) | bit
    this.unique++
    return true
  }

  get complete(): boolean {
    return this.unique === this.total
  }
}
