import { brokerUrl, describeDeletedUnderConnection } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_REDIS_URL')

describe.skipIf(!url)('redis (ANYMQ_REDIS_URL unset: run scripts/brokers.sh up redis)', () => {
  describeDeletedUnderConnection({ name: 'redis', connect: () => connect(url as string, { adapter }) })
})
