import { type Capabilities, UnsupportedFeatureError } from '@anymq/core/spi'
import type { QueueType } from './rabbitmq-config.js'
import { adapterName } from './rabbitmq-errors.js'

/**
 * RabbitMQ's first major version whose quorum queues keep message priorities. They keep two levels
 * (0–4 normal, 5 and above high) on every quorum queue, without `x-max-priority`, and deliver high and
 * normal in a 2:1 ratio rather than strictly, so normal messages are not starved.
 */
const quorumPriorityMajor = 4

/** Whether quorum queues of the broker that answered with this version keep priorities. */
export function quorumQueuesHavePriorities(serverVersion: string | undefined): boolean {
  const major = Number.parseInt(serverVersion ?? '', 10)
  return Number.isFinite(major) && major >= quorumPriorityMajor
}

/**
 * The declaration arguments of a priority queue (`queue(name, { maxPriority })`): `x-max-priority` on a
 * classic queue (strict order, one level per value); nothing on a quorum queue of RabbitMQ 4 or later
 * (two levels, built in). A quorum queue on an older broker cannot have priorities (the broker refuses
 * the argument), which is said at once rather than by a PRECONDITION_FAILED on the first send.
 */
export function priorityArguments(type: QueueType, maxPriority: number, serverVersion: string | undefined, queue: string): Record<string, unknown> {
  if (type === 'classic') return { 'x-max-priority': maxPriority }
  if (quorumQueuesHavePriorities(serverVersion)) return {}
  throw new UnsupportedFeatureError(
    adapterName,
    `maxPriority on quorum queue '${queue}' (the broker is RabbitMQ ${serverVersion ?? 'of an unknown version'})`,
    `quorum queues keep priorities from RabbitMQ ${quorumPriorityMajor}.0 (two levels); use queueType 'classic' for this queue, or upgrade the broker`,
  )
}

/**
 * The capabilities of a connection whose queues are quorum queues by default: without priorities on a
 * broker older than RabbitMQ 4, so `mq.capabilities` says so and `queue(name, { maxPriority })` is
 * refused when the handle is made.
 */
export function withQueueTypePriority(capabilities: Capabilities, queueType: QueueType, serverVersion: string | undefined): Capabilities {
  if (queueType === 'classic' || quorumQueuesHavePriorities(serverVersion)) return capabilities
  const { priorityQueues: _declared, ...rest } = capabilities
  return { ...rest, priority: false }
}
