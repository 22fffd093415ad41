import { type _Record, GetRecordsCommand, GetShardIteratorCommand, type GetShardIteratorCommandInput, type KinesisClient } from '@aws-sdk/client-kinesis'
import { isIteratorExpired, isResourceMissing, wrapError } from './kinesis-errors.js'
import type { Checkpoint } from './kinesis-lease.js'

export interface ShardReaderOptions {
  pollMs: number
  /** How many records the consumer can take now (0: wait). */
  room(): number
  /** Hands over one batch; resolves when the reader may go on (the lease was confirmed). `false`: stop, the lease is lost. */
  accept(records: _Record[]): Promise<boolean>
  /** The shard was closed by a split or merge and is read to its end. */
  ended(): void
  onError(error: Error): void
}

/**
 * Reads one leased shard with GetRecords, from a checkpoint, for as long as it runs: as fast as the
 * consumer takes records, every `pollMs` when the shard is idle. An expired iterator (AWS: 5 minutes)
 * is replaced by one after the last record read.
 */
export class ShardReader {
  private running = true
  private wake: (() => void) | undefined
  private lastSequence: string | undefined
  readonly finished: Promise<void>

  constructor(
    private readonly client: KinesisClient,
    private readonly stream: string,
    private readonly shardId: string,
    private readonly start: Checkpoint,
    private readonly options: ShardReaderOptions,
  ) {
    this.finished = this.run()
  }

  /** Stops after the current call; `finished` resolves when it has. */
  stop(): void {
    this.running = false
    this.wake?.()
  }

  /** Reads again now instead of waiting out the idle time (the consumer has room again). */
  poke(): void {
    this.wake?.()
  }

  private async run(): Promise<void> {
    let iterator: string | undefined
    while (this.running) {
      try {
        const room = this.options.room()
        if (room === 0) {
          await this.pause(this.options.pollMs)
          continue
        }
        iterator ??= await this.iterator()
        if (iterator === undefined) return
        let page: Awaited<ReturnType<typeof this.getRecords>>
        try {
          page = await this.getRecords(iterator, room)
        } catch (error) {
          if (!isIteratorExpired(error)) throw error
          iterator = undefined
          continue
        }
        if (!this.running) return
        const records = page.Records ?? []
        if (records.length > 0) {
          this.lastSequence = records[records.length - 1]?.SequenceNumber ?? this.lastSequence
          if (!(await this.options.accept(records))) return
        }
        iterator = page.NextShardIterator
        if (iterator === undefined) {
          this.options.ended()
          return
        }
        if (records.length === 0) await this.pause(this.options.pollMs)
      } catch (error) {
        if (!this.running) return
        if (isResourceMissing(error)) {
          this.options.onError(wrapError(error, `reading shard ${this.shardId} of stream '${this.stream}'`))
          return
        }
        this.options.onError(wrapError(error, `reading shard ${this.shardId} of stream '${this.stream}'`))
        await this.pause(Math.max(this.options.pollMs, 500))
      }
    }
  }

  private getRecords(iterator: string, room: number) {
    return this.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: Math.min(1000, Math.max(1, room)) }))
  }

  private async iterator(): Promise<string | undefined> {
    const input: GetShardIteratorCommandInput = { StreamName: this.stream, ShardId: this.shardId, ShardIteratorType: 'TRIM_HORIZON' }
    const start: Checkpoint = this.lastSequence ? { kind: 'after-sequence', sequenceNumber: this.lastSequence } : this.start
    switch (start.kind) {
      case 'shard-end':
        this.options.ended()
        return undefined
      case 'trim-horizon':
        break
      case 'at-timestamp':
        input.ShardIteratorType = 'AT_TIMESTAMP'
        input.Timestamp = new Date(start.timestamp)
        break
      case 'at-sequence':
        input.ShardIteratorType = 'AT_SEQUENCE_NUMBER'
        input.StartingSequenceNumber = start.sequenceNumber
        break
      case 'after-sequence':
        input.ShardIteratorType = 'AFTER_SEQUENCE_NUMBER'
        input.StartingSequenceNumber = start.sequenceNumber
        break
    }
    const result = await this.client.send(new GetShardIteratorCommand(input))
    return result.ShardIterator
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.wake = done
    })
  }
}
