import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { brokerUrl, describeConformance } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe } from 'vitest'
import { adapter, capabilities } from '../src/index.js'

const url = brokerUrl('ANYMQ_KAFKA_URL')

async function restart(): Promise<void> {
  const script = process.env.ANYMQ_BROKERS_SCRIPT ?? new URL('../../../scripts/brokers.sh', import.meta.url).pathname
  await promisify(execFile)(script, ['restart', 'kafka'], { timeout: 240_000 })
}

describe.skipIf(!url)(`kafka${!url ? ' (ANYMQ_KAFKA_URL unset: run scripts/brokers.sh up kafka)' : ''}`, () => {
  describeConformance({
    name: 'kafka',
    capabilities,
    connect: () => connect(url!, { adapter }),
    hooks: { restartBroker: restart },
    // Group joins, and the session timeout before a killed consumer's partitions move, on a loaded CI machine.
    timeScale: 2,
    countsRedeliveries: false,
    // The platformatic driver's liveness check sees a restart with nothing in flight; kafkajs has none (README, "Connection health").
    observesReconnects: new URL(url ?? 'kafka://unset').searchParams.get('driver') !== 'kafkajs',
  })
})

// The admin calls go through the driver seam's admin methods: the kafkajs driver runs that group too.
describe.skipIf(!url)(`kafka, kafkajs driver${!url ? ' (ANYMQ_KAFKA_URL unset: run scripts/brokers.sh up kafka)' : ''}`, () => {
  describeConformance({
    name: 'kafka (kafkajs)',
    capabilities,
    connect: () => connect(withDriver(url as string, 'kafkajs'), { adapter }),
    groups: ['admin'],
    timeScale: 2,
    countsRedeliveries: false,
    observesReconnects: false,
  })
})

function withDriver(base: string, driver: string): string {
  const parsed = new URL(base)
  parsed.searchParams.set('driver', driver)
  return parsed.toString()
}
