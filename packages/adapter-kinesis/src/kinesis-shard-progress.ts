import type { Checkpoint } from './kinesis-lease.js'

/**
 * What a reader has done of one shard: the records read, in order, each done (acked, retried,
 * skipped) or not. The checkpoint moves past the longest done prefix only, so a record still in a
 * handler, held for its backoff or released is read again by whoever takes the shard next.
 */
export class ShardProgress {
  private readonly records: { sequenceNumber: string; done: boolean }[] = []
  private index = new Map<string, { sequenceNumber: string; done: boolean }>()
  private ended = false

  constructor(private checkpoint: Checkpoint) {}

  read(sequenceNumber: string): void {
    const entry = { sequenceNumber, done: false }
    this.records.push(entry)
    this.index.set(sequenceNumber, entry)
  }

  done(sequenceNumber: string): void {
    const entry = this.index.get(sequenceNumber)
    if (entry) entry.done = true
    this.advance()
  }

  /** The shard is closed (split or merged) and everything in it was read. */
  end(): void {
    this.ended = true
    this.advance()
  }

  current(): Checkpoint {
    return this.checkpoint
  }

  /** Records read and not yet done. */
  get open(): number {
    return this.records.length
  }

  private advance(): void {
    while (this.records[0]?.done) {
      const entry = this.records.shift() as { sequenceNumber: string }
      this.index.delete(entry.sequenceNumber)
      this.checkpoint = { kind: 'after-sequence', sequenceNumber: entry.sequenceNumber }
    }
    if (this.ended && this.records.length === 0) this.checkpoint = { kind: 'shard-end' }
  }
}
