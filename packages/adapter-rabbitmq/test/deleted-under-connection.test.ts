import { brokerUrl, describeDeletedUnderConnection } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_RABBITMQ_URL')

describe.skipIf(!url)('rabbitmq (ANYMQ_RABBITMQ_URL unset: run scripts/brokers.sh up rabbitmq)', () => {
  describeDeletedUnderConnection({ name: 'rabbitmq', connect: () => connect(url as string, { adapter }) })
})
