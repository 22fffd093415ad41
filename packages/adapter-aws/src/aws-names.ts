import { createHash, randomUUID } from 'node:crypto'

/**
 * How anymq names become SQS queue and SNS topic names.
 *
 * SQS and SNS allow only letters, digits, `-` and `_` (queues: 80 characters, a FIFO queue's
 * including its `.fifo` suffix); anymq names may also contain `.` and be 200 characters long.
 *
 * - A name that is already valid is used as it is: queue `orders` is SQS queue `orders`.
 * - Any other name has each `.` replaced by `_`, is cut to fit, and gets `-` plus 10 hex digits of
 *   the SHA-256 of the original name (tagged with its kind): `orders.dlq` → `orders_dlq-<hash>`.
 *   The hash keeps the mapping collision-free (`a.b` and `a_b` stay apart) and deterministic (every
 *   process finds the same queue).
 * - A named topic subscription is the queue `<topic>_<subscription>-<hash>` (always hashed, so it
 *   can never collide with a queue of that name).
 * - An ordered queue (SQS FIFO) is the same name with `.fifo` appended.
 * - Temporary queues (ephemeral subscribers, reply inboxes) are `anymq-tmp-<uuid>`.
 */
const validName = /^[A-Za-z0-9_-]+$/
const hashLength = 10

export const fifoSuffix = '.fifo'
const queueLimit = 80
const topicLimit = 256

export function queueName(name: string, fifo: boolean): string {
  const limit = queueLimit - (fifo ? fifoSuffix.length : 0)
  return mapped('queue', name, limit) + (fifo ? fifoSuffix : '')
}

export function subscriptionQueueName(topic: string, subscription: string): string {
  const limit = queueLimit
  const base = `${sanitize(topic)}_${sanitize(subscription)}`
  return `${base.slice(0, limit - hashLength - 1)}-${hash(`subscription\u0000${topic}\u0000${subscription}`)}`
}

export function topicName(name: string): string {
  return mapped('topic', name, topicLimit)
}

export function temporaryQueueName(): string {
  return `anymq-tmp-${randomUUID().replaceAll('-', '')}`
}

export function isTemporaryQueueName(name: string): boolean {
  return /^anymq-tmp-[0-9a-f]{32}$/.test(name)
}

function mapped(kind: string, name: string, limit: number): string {
  if (validName.test(name) && name.length <= limit) return name
  return `${sanitize(name).slice(0, limit - hashLength - 1)}-${hash(`${kind}\u0000${name}`)}`
}

function sanitize(name: string): string {
  return name.replace(/[^A-Za-z0-9_-]/g, '_')
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, hashLength)
}

/**
 * EventBridge (`topics=eventbridge`): a topic is the `detail-type` of its events (source `anymq`),
 * mapped like a topic name to at most 128 characters; a subscription is the rule
 * `anymq-<queue>-<hash>` (64 characters at most) that targets its queue.
 */
export function eventDetailType(topic: string): string {
  return mapped('topic', topic, 128)
}

export function eventRuleName(queue: string): string {
  return `anymq-${sanitize(queue).slice(0, 64 - 'anymq-'.length - hashLength - 1)}-${hash(`rule\u0000${queue}`)}`
}
