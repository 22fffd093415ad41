/**
 * A shard lease, as the KCL keeps it: which worker reads the shard (`owner`), a `counter` bumped on
 * every renewal (a lease whose counter stops moving for the lease duration has expired, judged by the
 * observer's own clock, so worker clocks need not agree), and the `checkpoint` the next reader
 * resumes from.
 */
export interface Lease {
  shardId: string
  owner: string | undefined
  counter: number
  checkpoint: Checkpoint
  /** Shards this one was split or merged from: it is read only once they reached their end. */
  parentShardIds: string[]
  /**
   * A worker below its fair share asked the owner for this lease: the owner stops reading the shard,
   * lets the records it handed out finish, and releases it (a graceful steal, so two workers never
   * run one key's records at once). Cleared by every take and release.
   */
  handoffTo?: string
}

/**
 * Where a shard's reader resumes: a starting position for a group that has read nothing yet, the
 * sequence number of the last record done (read after it), or the end of a closed shard.
 */
export type Checkpoint =
  | { kind: 'trim-horizon' }
  | { kind: 'at-timestamp'; timestamp: number }
  | { kind: 'at-sequence'; sequenceNumber: string }
  | { kind: 'after-sequence'; sequenceNumber: string }
  | { kind: 'shard-end' }

export function checkpointText(checkpoint: Checkpoint): string {
  switch (checkpoint.kind) {
    case 'trim-horizon':
      return 'TRIM_HORIZON'
    case 'shard-end':
      return 'SHARD_END'
    case 'at-timestamp':
      return `AT_TIMESTAMP:${checkpoint.timestamp}`
    case 'at-sequence':
      return `AT_SEQUENCE_NUMBER:${checkpoint.sequenceNumber}`
    case 'after-sequence':
      return checkpoint.sequenceNumber
  }
}

export function parseCheckpoint(text: string): Checkpoint {
  if (text === 'TRIM_HORIZON') return { kind: 'trim-horizon' }
  if (text === 'SHARD_END') return { kind: 'shard-end' }
  if (text.startsWith('AT_TIMESTAMP:')) return { kind: 'at-timestamp', timestamp: Number(text.slice('AT_TIMESTAMP:'.length)) }
  if (text.startsWith('AT_SEQUENCE_NUMBER:')) return { kind: 'at-sequence', sequenceNumber: text.slice('AT_SEQUENCE_NUMBER:'.length) }
  return { kind: 'after-sequence', sequenceNumber: text }
}

/**
 * Where a consumer group's leases live. Every write but `create` is conditional on the counter the
 * caller last saw, so two workers never both believe they hold a shard: the loser's write is refused
 * and it gives the shard up.
 */
export interface LeaseStore {
  /** Makes the store exist (the DynamoDB table); resolves once it can be written. */
  open(): Promise<void>
  /** Whether the store already exists (without creating it). */
  exists(): Promise<boolean>
  list(): Promise<Lease[]>
  /** Adds a lease for a new shard; `false` when another worker added it first. */
  create(lease: Lease): Promise<boolean>
  /** Takes a lease (free, expired, or stolen) as `owner`; `undefined` when its counter moved meanwhile. */
  take(lease: Lease, owner: string): Promise<Lease | undefined>
  /** Renews a held lease, writing the checkpoint too; `undefined` when it was lost. */
  renew(lease: Lease, checkpoint: Checkpoint): Promise<Lease | undefined>
  /**
   * Asks the owner of a lease to hand it over to `to` (sets `handoffTo`, conditional on the counter,
   * which it leaves as it is: the owner's renewals go on); `false` when the lease changed meanwhile.
   */
  requestHandoff(lease: Lease, to: string): Promise<boolean>
  /** Gives a held lease up with its last checkpoint, so another worker takes it at once. */
  release(lease: Lease, checkpoint: Checkpoint): Promise<void>
  /** Moves a checkpoint forward from `expected` (redrive of a queue nobody reads); `false` when it changed. */
  advance(lease: Lease, checkpoint: Checkpoint): Promise<boolean>
  /** Removes the store (ephemeral groups). */
  drop(): Promise<void>
}
