import { createHash, randomUUID } from 'node:crypto'

/**
 * How anymq names become Kinesis stream and DynamoDB lease table names.
 *
 * Kinesis stream names take letters, digits, `_`, `-` and `.` (128 characters); DynamoDB table names
 * the same (255). A valid anymq name is used as it is: queue `orders` is stream `orders`, and so is
 * topic `orders` (a queue and a topic of one name share the stream). Any other name is sanitized,
 * cut, and suffixed with 10 hex digits of its SHA-256, so the mapping stays deterministic and
 * collision-free.
 *
 * A consumer group keeps its leases in the table `anymq-leases.<stream>.<group>` (one table per
 * application, as the KCL does); a queue's one group is called `queue`.
 */
const validName = /^[A-Za-z0-9_.-]+$/
const hashLength = 10

export const queueGroup = 'queue'

export function streamName(name: string): string {
  return mapped(name, 128)
}

export function leaseTableName(stream: string, group: string): string {
  return mapped(`anymq-leases.${stream}.${group}`, 255)
}

/** A stream of one connection's reply inbox, deleted when it closes. */
export function inboxStreamName(): string {
  return `anymq-inbox-${randomUUID()}`
}

/** The group of an ephemeral subscriber: unique, its leases kept in memory only. */
export function ephemeralGroup(): string {
  return `ephemeral-${randomUUID()}`
}

function mapped(name: string, limit: number): string {
  if (validName.test(name) && name.length <= limit) return name
  const base = name.replace(/[^A-Za-z0-9_.-]/g, '_')
  const digest = createHash('sha256').update(name).digest('hex').slice(0, hashLength)
  return `${base.slice(0, limit - hashLength - 1)}-${digest}`
}
