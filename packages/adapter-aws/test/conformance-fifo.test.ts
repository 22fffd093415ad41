import { brokerUrl, describeConformance } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe } from 'vitest'
import { adapter, capabilities, fifoCapabilities } from '../src/index.js'

const url = brokerUrl('ANYMQ_SQS_URL')

// FIFO queues: the ordering group, then every queue FIFO (conformance.test.ts runs the standard queues).
describe.skipIf(!url)(`aws fifo${!url ? ' (ANYMQ_SQS_URL unset: run scripts/brokers.sh up sqs)' : ''}`, () => {
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
  // settle paths as the standard queues of conformance.test.ts), ordering (the describe above), and acknowledgement, whose dedupe case moto fails
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
