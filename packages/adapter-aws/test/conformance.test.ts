import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { brokerUrl, describeConformance } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe } from 'vitest'
import { adapter, capabilities, eventBridgeCapabilities, fifoCapabilities } from '../src/index.js'

const url = brokerUrl('ANYMQ_SQS_URL')

export async function restart(broker: string): Promise<void> {
  const script = process.env.ANYMQ_BROKERS_SCRIPT
  if (!script) throw new Error('ANYMQ_BROKERS_SCRIPT is not set: export the lines of scripts/brokers.sh env')
  await promisify(execFile)(script, ['restart', broker], { timeout: 180_000 })
}

describe.skipIf(!url)(`aws${!url ? ' (ANYMQ_SQS_URL unset: run scripts/brokers.sh up sqs)' : ''}`, () => {
  describeConformance({
    name: 'aws (standard queues)',
    capabilities,
    // 2 s long polls: moto's FIFO long poll does not see a message group unlocked while it waits
    // (AWS does), so an ordered queue's consumer would sit out the whole wait (see README).
    // closeWaitsForPolls=false: each case's close would wait out its polls (273 s → 558 s for this file);
    // the default close is checked in aws-adapter.test.ts and by test/readme-example.test.ts.
    connect: () => connect(`${url}&waitTimeSeconds=2&closeWaitsForPolls=false`, { adapter }),
    // Standard queues are at-least-once even between competing consumers (SQS's own documentation);
    // moto shows it under load: its ReceiveMessage marks a message received without a lock.
    competitorsMaySeeDuplicates: true,
    // README, "Consumers": a long poll pending at close still receives, and its hand-back is a receive.
    handBacksCountAsAttempts: true,
    timeScale: 2,
    // moto answers ~25-50 requests/s on this machine: 10 000 messages would take minutes (see README).
    stress: { publishers: 10, messagesPerPublisher: 20, consumers: 10 },
    volume: 500,
    groups: [
      'round-trip',
      'queue',
      'topic',
      'acknowledgement',
      'priority',
      'retry',
      'request-reply',
      'scatter-gather',
      'idempotency',
      'claim-check',
      'delay',
      'lifecycle',
      'observability',
      'admin',
    ],
  })
  // The ordering group without its cross-instance case (registered for ordering: 'key' only): moto's
  // FIFO group lock races when two consumers poll at once (receive_message checks groups against a
  // snapshot taken when the call starts), so that case is flaky against moto while it holds on AWS.
  // test/aws-adapter.test.ts checks per-key order across two instances in a form moto gets right.
  describeConformance({
    name: 'aws (ordering within one consumer)',
    capabilities: { ...capabilities, ordering: 'queue' },
    connect: () => connect(`${url}&waitTimeSeconds=2&closeWaitsForPolls=false`, { adapter }),
    timeScale: 2,
    groups: ['ordering'],
  })
  // Every queue a FIFO queue: dedupe instead of delay. The groups whose behaviour depends on the
  // queue type run again. Left out, to keep the file within CI's time: topic (subscription queues
  // are standard queues on both connections), queue and request-reply (the same send, receive and
  // settle paths as above), ordering (see above), and acknowledgement, whose dedupe case moto fails
  // (it dedupes only against messages still in the queue; AWS remembers ids for 5 minutes):
  // test/aws-adapter.test.ts covers FIFO dedupe, nack and cross-instance order instead.
  describeConformance({
    name: 'aws (every queue FIFO)',
    capabilities: fifoCapabilities,
    connect: () => connect(`${url}&queueType=fifo&waitTimeSeconds=2&closeWaitsForPolls=false`, { adapter }),
    timeScale: 2,
    groups: ['round-trip', 'retry', 'delay', 'lifecycle'],
  })
})

// Topics as EventBridge events routed by rules to the subscription queues: the same groups as the
// standard connection (ordering: see above; it never touches a topic).
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
