import { brokerUrl, describeConformance } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe } from 'vitest'
import { adapter, capabilities } from '../src/index.js'
import { restartRabbitmq } from './broker.js'

const url = brokerUrl('ANYMQ_RABBITMQ_URL')

describe.skipIf(!url)(`rabbitmq${!url ? ' (ANYMQ_RABBITMQ_URL unset: run scripts/brokers.sh up rabbitmq)' : ''}`, () => {
  describeConformance({
    name: 'rabbitmq (classic queues)',
    capabilities,
    connect: () => connect(url!, { adapter }),
    hooks: { restartBroker: restartRabbitmq },
  })

  // Quorum queues behave differently where it matters (redelivery counts, requeue order, single
  // active consumer, restart recovery), so the whole suite runs again with every durable queue,
  // dead-letter queue and named subscription a quorum queue.
  describeConformance({
    name: 'rabbitmq (quorum queues)',
    capabilities,
    connect: () => connect(url!, { adapter, broker: { queueType: 'quorum' } }),
    hooks: { restartBroker: restartRabbitmq },
  })
})
