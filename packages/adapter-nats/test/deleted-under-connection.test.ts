import { brokerUrl, describeDeletedUnderConnection } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_NATS_URL')

describe.skipIf(!url)('nats (ANYMQ_NATS_URL unset: run scripts/brokers.sh up nats)', () => {
  describeDeletedUnderConnection({ name: 'nats', connect: () => connect(url as string, { adapter }) })
})
