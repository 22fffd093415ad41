import { brokerUrl, describeConformance } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe } from 'vitest'
import { adapter, capabilities } from '../src/index.js'

const url = brokerUrl('ANYMQ_PUBSUB_URL')

/**
 * pstest keeps everything in memory, so a restart loses every topic and message: the recovery group
 * (no loss across a broker restart) cannot be run against it, and is left out here, not faked.
 */
describe.skipIf(!url)(`gcp-pubsub${!url ? ' (ANYMQ_PUBSUB_URL unset: run scripts/brokers.sh up pubsub)' : ''}`, () => {
  describeConformance({
    name: 'gcp-pubsub (pstest)',
    capabilities,
    connect: () => connect(url as string, { adapter }),
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
      'ordering',
      'delay',
      'lifecycle',
      'observability',
      'admin',
    ],
  })
})
