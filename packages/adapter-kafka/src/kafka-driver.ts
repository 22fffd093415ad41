import { type ConnectionStateTracker, type Logger, settlesWithin } from '@anymq/core/spi'

/**
 * The seam between the adapter's semantics and a Kafka client library. Everything kafkajs-specific
 * lives in `kafkajs-driver.ts`; a second driver (e.g. a librdkafka binding) implements these
 * interfaces and nothing else changes. Offsets are plain numbers (safe up to 2^53).
 */

/**
 * Longest a stopping consumer waits for the broker to answer its leaving (streams closed, LeaveGroup):
 * a broker that keeps the connection and stops answering held it for the request timeout and, on
 * kafkajs, its retries (30 s and 60 s closes, past the README's 25 s SIGTERM budget).
 */
const leaveWaitMs = 5_000

/**
 * Waits for a stopping consumer's `leaving` for {@link leaveWaitMs} at most, then warns and goes on: the
 * group gives the member's partitions to the others once its session times out, and what it had not
 * committed is read again.
 */
export async function leaveWithin(leaving: Promise<void>, groupId: string, logger: Logger): Promise<void> {
  if (await settlesWithin(leaving, leaveWaitMs)) await leaving
  else
    logger.warn(
      `kafka consumer of group '${groupId}': the broker did not answer leaving the group within ${leaveWaitMs} ms; not waiting longer (the group gives this member's partitions to the others once its session times out, and what it had not committed is read again)`,
    )
}

/**
 * A record as read from a partition, headers decoded as UTF-8. A driver makes it with
 * `receivedRecord` and puts each header in with `receiveHeader` (kafka-wire.ts): anymq's own headers
 * land in their fields, the others in `headers`, so no second headers object is made per record.
 * Its fields are named as core's `IncomingMessage`: `fromRecord` completes the record into the
 * message core is handed, rather than copying it into a second object per record.
 */
export interface DriverRecord {
  topic: string
  partition: number
  offset: number
  key: string | undefined
  /** The record's value. */
  body: Uint8Array
  /** The record's headers other than anymq's own `x-anymq-*` ones below: a handler's `message.headers`. */
  headers: Record<string, string>
  /** `x-anymq-id`. */
  id: string | undefined
  /** `x-anymq-content-type`. */
  contentType: string | undefined
  /** `x-anymq-correlation-id`. */
  correlationId: string | undefined
  /** `x-anymq-reply-to`. */
  replyTo: string | undefined
  /** `x-anymq-subject`. */
  subject: string | undefined
  /** `x-anymq-due-at`, epoch milliseconds as text. */
  dueAt: string | undefined
  /** Record timestamp (CreateTime), epoch milliseconds. */
  timestamp: number
  /** Which delivery this is (`x-anymq-attempt`), read by `fromRecord`; 1 before. */
  attempt: number
  /** The client's native record, handed to users as `message.raw`. */
  raw: unknown
}

export interface DriverOutgoingRecord {
  key: string | undefined
  value: Uint8Array
  headers: Record<string, string>
  timestamp: number
}

export interface TopicPartitionOffset {
  topic: string
  partition: number
  offset: number
}

export interface PartitionRange {
  partition: number
  /** First offset still stored. */
  low: number
  /** Offset the next record will get (high watermark). */
  high: number
}

/** One fetched batch of one partition, handed to the consumer's `onBatch`. */
export interface DriverBatch {
  topic: string
  partition: number
  records: DriverRecord[]
  /** Marks `offset` as processed for fetching: the next fetch starts after it. Not a commit. */
  resolve(offset: number): void
  /** Keeps the group session alive while waiting; rejects when the group is rebalancing. */
  heartbeat(): Promise<void>
  /** False once the consumer is stopping or restarting: stop handling this batch. */
  isRunning(): boolean
  /** Stops fetching this partition; returns the function that resumes it. */
  pause(): () => void
}

export interface DriverConsumerOptions {
  groupId: string
  topics: string[]
  /** Where a partition without a committed offset starts: earliest (true) or latest (false). */
  fromBeginning: boolean
  /**
   * Handles a batch; resolving lets the driver fetch further. Must not throw. Records taken in the
   * turn of the call are resolved (`batch.resolve`) before it returns, so a driver can hand records
   * over one at a time and see at once whether it must wait.
   */
  onBatch(batch: DriverBatch): Promise<void>
  /**
   * Before the member rejoins its group in a rebalance, while it still owns its partitions (the
   * Java client's onPartitionsRevoked; both drivers use an eager assignor, so a rejoin revokes every
   * partition): the consumer lets its running handlers finish, commits what they handled and hands
   * out nothing more until `onAssigned`. The driver sends its JoinGroup once this resolves, or after
   * half the rebalance timeout (`revokeBeforeRejoin`). Commits made meanwhile must go through: the
   * group is preparing the rebalance and still accepts this generation's commits. Absent: nothing to
   * do before a rejoin (a member that commits as it reads).
   */
  onRevoking?(): Promise<void>
  /** After every (re)join: the partitions this member now owns, by topic. */
  onAssigned(assignment: ReadonlyMap<string, readonly number[]>): void
  /** After the broker accepted a commit. */
  onCommitted(offsets: readonly TopicPartitionOffset[]): void
  /** The client failed; `restarting` says whether it reconnects by itself. */
  onCrash(error: Error, restarting: boolean): void
}

export interface DriverConsumer {
  /** Connects, joins the group; resolves after the first assignment. */
  start(): Promise<void>
  /** Commits `offset` = the next offset to read, per partition. Best effort: a stale member's commit fails. */
  commit(offsets: readonly TopicPartitionOffset[]): Promise<void>
  pauseAll(): void
  /** Leaves the group and disconnects. Idempotent. */
  stop(): Promise<void>
}

export interface TopicSpec {
  name: string
  partitions: number
  replicationFactor: number
}

export interface KafkaDriver {
  /** Connects the admin client (and so checks that a broker answers). */
  connect(): Promise<void>
  /**
   * Produces with acks=all; resolves when every record was acknowledged. `forget`: topics the client
   * should not keep tracking afterwards (reply inboxes, deleted whenever their requester closes).
   */
  send(batches: ReadonlyArray<{ topic: string; records: DriverOutgoingRecord[] }>, options?: { forget?: readonly string[] }): Promise<void>
  /** Creates the topics that do not exist yet; waits for their leaders. */
  createTopics(topics: readonly TopicSpec[]): Promise<void>
  deleteTopics(topics: readonly string[]): Promise<void>
  topicRanges(topic: string): Promise<PartitionRange[]>
  /** Committed offsets of a group on a topic; partitions without one are absent. */
  groupOffsets(groupId: string, topic: string): Promise<Map<number, number>>
  /** Commits offsets for an empty group (no member joined). Rejects when the group has members. */
  setGroupOffsets(groupId: string, topic: string, offsets: ReadonlyArray<{ partition: number; offset: number }>): Promise<void>
  deleteGroups(groupIds: readonly string[]): Promise<void>
  /** Every topic of the cluster, internal ones included. */
  listTopics(): Promise<string[]>
  /** Every consumer group id the cluster knows. */
  listGroups(): Promise<string[]>
  /** Members of a group right now; 0 when it has none or does not exist. */
  groupMembers(groupId: string): Promise<number>
  /** Kafka's DeleteRecords: each partition's log start moves up to `offset` (the records below it are gone). */
  deleteRecords(topic: string, offsets: ReadonlyArray<{ partition: number; offset: number }>): Promise<void>
  consumer(options: DriverConsumerOptions): DriverConsumer
  /**
   * Reports failed and successful dials of the brokers to `connectionState`, where the client tells
   * them (the platformatic driver; kafkajs does not, and relies on consumer crashes and publish errors).
   */
  watchConnections?(connectionState: ConnectionStateTracker): void
  /** Disconnects everything gracefully. */
  close(): Promise<void>
  /** Drops every connection at once: no leave-group, no commit (as a crashed process). */
  terminate(): Promise<void>
}
