import { brokerUrl, describeConformance } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe } from 'vitest'
import { adapter, capabilities } from '../src/index.js'
import { restartNats } from './broker.js'

const url = brokerUrl('ANYMQ_NATS_URL')

describe.skipIf(!url)(`nats${!url ? ' (ANYMQ_NATS_URL unset: run scripts/brokers.sh up nats)' : ''}`, () => {
  describeConformance({
    name: 'nats',
    capabilities,
    connect: () => connect(url as string, { adapter }),
    hooks: { restartBroker: restartNats },
  })
})
