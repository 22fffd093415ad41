import { brokerUrl, describeConformance } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe } from 'vitest'
import { adapter, eventBridgeCapabilities } from '../src/index.js'

const url = brokerUrl('ANYMQ_SQS_URL')

// Topics as EventBridge events routed by rules to the subscription queues: the same groups as the
// standard connection of conformance.test.ts (ordering, in conformance-fifo.test.ts, never touches a topic).
describe.skipIf(!url)(`aws eventbridge${!url ? ' (ANYMQ_SQS_URL unset: run scripts/brokers.sh up sqs)' : ''}`, () => {
  describeConformance({
    name: 'aws (EventBridge topics)',
    capabilities: eventBridgeCapabilities,
    connect: () => connect(`${url}&waitTimeSeconds=2&closeWaitsForPolls=false&topics=eventbridge`, { adapter }),
    // Standard queues are at-least-once even between competing consumers (SQS's own documentation);
    // moto shows it under load: its ReceiveMessage marks a message received without a lock.
    competitorsMaySeeDuplicates: true,
    // README, "Consumers": a long poll pending at close still receives, and its hand-back is a receive.
    handBacksCountAsAttempts: true,
    timeScale: 2,
    stress: { publishers: 10, messagesPerPublisher: 20, consumers: 10 },
    volume: 500,
    groups: ['round-trip', 'queue', 'topic', 'acknowledgement', 'retry', 'request-reply', 'delay', 'lifecycle', 'admin'],
  })
})
