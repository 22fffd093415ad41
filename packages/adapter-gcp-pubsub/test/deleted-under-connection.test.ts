import { brokerUrl, describeDeletedUnderConnection } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_PUBSUB_URL')

describe.skipIf(!url)('gcp-pubsub (ANYMQ_PUBSUB_URL unset: run scripts/brokers.sh up pubsub)', () => {
  describeDeletedUnderConnection({ name: 'gcp-pubsub', connect: () => connect(url as string, { adapter }) })
})
