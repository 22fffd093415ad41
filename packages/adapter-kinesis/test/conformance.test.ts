import { brokerUrl, describeConformance } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe } from 'vitest'
import { adapter, capabilities } from '../src/index.js'

const url = brokerUrl('ANYMQ_KINESIS_URL')
// The whole suite takes about 3 minutes against moto (a few dozen requests a second on a busy
// machine): `pnpm test:kinesis` runs it (ANYMQ_KINESIS_FULL=1). `pnpm test` runs the CI-sized part:
// queues, topics and consumer groups (test/kinesis-leases.test.ts shows the takeover of a killed
// worker's shards).
const full = process.env.ANYMQ_KINESIS_FULL === '1'
const ciGroups = ['queue', 'topic', 'admin'] as const

describe.skipIf(!url)(`kinesis${!url ? ' (ANYMQ_KINESIS_URL unset: run scripts/brokers.sh up sqs)' : ''}`, () => {
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
    groups: full
      ? ['round-trip', 'queue', 'topic', 'acknowledgement', 'priority', 'retry', 'request-reply', 'scatter-gather', 'ordering', 'delay', 'lifecycle', 'admin']
      : ciGroups,
  })
})
