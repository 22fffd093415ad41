import { brokerUrl, describeConformance } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe } from 'vitest'
import { adapter, capabilities } from '../src/index.js'
import { defaultDriver, drivers, withDriver } from './drivers.js'

const url = brokerUrl('ANYMQ_REDIS_URL')

// The drivers other than the default (which conformance.test.ts covers in full): the groups that go
// through the client library differently (commands, transactions, scripts, blocking reads). Not
// 'recovery': restarting the one test Redis from two files at once would pull it from under both;
// reconnection on every driver is proven by reconnect.test.ts (connections killed one by one).
describe.skipIf(!url)(`redis, other drivers${!url ? ' (ANYMQ_REDIS_URL unset: run scripts/brokers.sh up redis)' : ''}`, () => {
  describe.each(drivers.filter((driver) => driver !== defaultDriver))('%s', (driver) => {
    describeConformance({
      name: `redis (${driver})`,
      capabilities,
      connect: () => connect(withDriver(url as string, driver), { adapter }),
      groups: ['round-trip', 'queue', 'acknowledgement', 'retry', 'request-reply', 'ordering', 'priority', 'delay', 'lifecycle', 'admin'],
    })
  })
})
