import { brokerUrl, describeConformance } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe } from 'vitest'
import { adapter, capabilities } from '../src/index.js'
import { restartRabbitmq } from './broker.js'

const url = brokerUrl('ANYMQ_RABBITMQ_URL')
const quorumCapabilities = url ? await capabilitiesOf(url, { queueType: 'quorum' }) : capabilities

async function capabilitiesOf(brokerUrl: string, broker: Record<string, unknown>) {
  const mq = await connect(brokerUrl, { adapter, broker })
  try {
    return mq.capabilities
  } finally {
    await mq.close()
  }
}

describe.skipIf(!url)(`rabbitmq${!url ? ' (ANYMQ_RABBITMQ_URL unset: run scripts/brokers.sh up rabbitmq)' : ''}`, () => {
  describeConformance({
    name: 'rabbitmq (classic queues)',
    capabilities,
    connect: () => connect(url!, { adapter }),
    hooks: { restartBroker: restartRabbitmq },
  })

  // Quorum queues behave differently where it matters (redelivery counts, requeue order, single
  // active consumer, restart recovery), so the whole suite runs again with every durable queue,
  // dead-letter queue and named subscription a quorum queue. What the connection says it can do
  // depends on the broker's version (quorum queues keep priorities from RabbitMQ 4).
  describeConformance({
    name: 'rabbitmq (quorum queues)',
    capabilities: quorumCapabilities,
    connect: () => connect(url!, { adapter, broker: { queueType: 'quorum' } }),
    hooks: { restartBroker: restartRabbitmq },
  })
})
