import { brokerUrl, describeConformance } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe } from 'vitest'
import { adapter, capabilities } from '../src/index.js'

const url = brokerUrl('ANYMQ_SQS_URL')

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
})
