import type { AsyncApiBindings } from '@anymq/core/spi'
import { naming } from './kafka-wire.js'

const bindingVersion = '0.5.0'

/**
 * How `mq.asyncapi()` describes Kafka, after the Kafka bindings 0.5.0: every queue, topic and
 * request/reply endpoint is a Kafka topic of its name; a receive operation names its consumer group
 * (`anymq:queue:<queue>`, `anymq:subscription:<topic>:<subscription>`).
 */
export const kafkaAsyncApi: AsyncApiBindings = {
  protocol: 'kafka',
  server: () => ({ kafka: { bindingVersion } }),
  channel: (channel) => ({ kafka: { topic: channel.name, bindingVersion } }),
  receive(channel, subscription) {
    const group =
      channel.kind === 'topic'
        ? subscription === undefined
          ? undefined
          : naming.subscriptionGroup(channel.name, subscription)
        : naming.queueGroup(channel.name)
    return group === undefined ? {} : { kafka: { groupId: { type: 'string', enum: [group] }, bindingVersion } }
  },
}
