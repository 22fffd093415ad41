import { brokerUrl, describeConformance } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe } from 'vitest'
import { adapter, capabilities } from '../src/index.js'

const url = brokerUrl('ANYMQ_KINESIS_URL')

describe.skipIf(!url)('kinesis (ANYMQ_KINESIS_URL unset: run scripts/brokers.sh up sqs)', () => {
  describeConformance({
    name: 'kinesis',
    capabilities,
    // Short leases and idle polls so takeovers and new records show within the suite's waits.
    connect: () => connect(`${url}&leaseMs=1500&pollMs=100`, { adapter }),
    timeScale: 2,
    // A shard lease moves, not a record: a record re-read by the next owner is attempt 1 again (as Kafka).
    countsRedeliveries: false,
    stress: { publishers: 10, messagesPerPublisher: 20, consumers: 4 },
    volume: 500,
    // moto keeps streams in memory only: a restart loses them, so the recovery group cannot pass against it.
    groups: ['round-trip', 'queue', 'topic', 'acknowledgement', 'retry', 'request-reply', 'scatter-gather', 'ordering', 'delay', 'lifecycle'],
  })
})
