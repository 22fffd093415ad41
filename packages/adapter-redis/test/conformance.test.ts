import { brokerUrl, describeConformance } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe } from 'vitest'
import { adapter, capabilities } from '../src/index.js'
import { restartRedis } from './broker.js'
import { defaultDriver, withDriver } from './drivers.js'

const url = brokerUrl('ANYMQ_REDIS_URL')

// The whole suite on the default driver; conformance-other-drivers.test.ts runs a focused part on the others.
describe.skipIf(!url)(`redis${!url ? ' (ANYMQ_REDIS_URL unset: run scripts/brokers.sh up redis)' : ''}`, () => {
  describeConformance({
    name: `redis (${defaultDriver})`,
    capabilities,
    connect: () => connect(withDriver(url as string, defaultDriver), { adapter }),
    hooks: { restartBroker: restartRedis },
  })
})
