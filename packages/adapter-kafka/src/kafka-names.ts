import { type AdminTarget, ConfigError } from '@anymq/core/spi'

/** What `naming` (kafka-wire.ts) appends to a queue's or subscription's redelivery topic: `<queue>.retry`, `<topic>.<subscription>.retry`. */
const reservedSuffix = '.retry'

/**
 * Refuses a queue or topic name that ends in '.retry'. A queue or topic is a Kafka topic of the same
 * name, and such a name is the very topic that holds the redelivery of queue `X` (`X.retry`) or of
 * subscription `s` of topic `t` (`t.s.retry`): what is sent to it would reach that queue's consumer,
 * a purge of that queue would delete it, and `list()` would hide it. Checked before anything is made.
 * Subscription names are not topics: only the topic before them counts.
 */
export function assertTopicName(name: string, kind: 'queue' | 'topic'): void {
  if (!name.endsWith(reservedSuffix)) return
  throw new ConfigError(
    [
      {
        field: `${kind}.name`,
        message: `'${name}' ends in '${reservedSuffix}': names ending in '${reservedSuffix}' are reserved on Kafka for the redelivery topics of queues ('<queue>${reservedSuffix}') and subscriptions ('<topic>.<subscription>${reservedSuffix}'); pick another ending ('${name.slice(0, -reservedSuffix.length)}-retry', for instance)`,
      },
    ],
    { adapter: 'kafka' },
  )
}

/** The same for what an admin call names: a queue, a topic, or a subscription's topic. */
export function assertTargetName(target: AdminTarget): void {
  if (target.kind === 'queue') assertTopicName(target.queue.name, 'queue')
  else assertTopicName(target.kind === 'topic' ? target.topic : target.subscription.topic, 'topic')
}
