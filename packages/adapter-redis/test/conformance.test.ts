import { brokerUrl, describeConformance } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe } from 'vitest'
import { adapter, capabilities } from '../src/index.js'
import { restartRedis } from './broker.js'

const url = brokerUrl('ANYMQ_REDIS_URL')

describe.skipIf(!url)('redis (ANYMQ_REDIS_URL unset: run scripts/brokers.sh up redis)', () => {
  describeConformance({
    name: 'redis',
    capabilities,
    connect: () => connect(url as string, { adapter }),
    hooks: { restartBroker: restartRedis },
  })
})
