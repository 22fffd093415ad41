import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { describeConformance } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe } from 'vitest'
import { adapter, capabilities } from '../src/index.js'

// ElasticMQ keeps SQS queues and messages on disk, so the restart group moto cannot serve (its state
// is in memory) runs here. Opt-in: `pnpm test:elasticmq` starts it (scripts/brokers.sh up elasticmq).
const url = process.env.ANYMQ_ELASTICMQ_URL

/** SIGKILLs ElasticMQ and starts it again on the same data: a crash, not a polite shutdown. */
async function killAndRestart(): Promise<void> {
  const script = process.env.ANYMQ_BROKERS_SCRIPT
  if (!script) throw new Error('ANYMQ_BROKERS_SCRIPT is not set: export the lines of scripts/brokers.sh env')
  await promisify(execFile)(script, ['restart', '--kill', 'elasticmq'], { timeout: 240_000 })
}

describe.skipIf(!url)(`aws on ElasticMQ${!url ? ' (ANYMQ_ELASTICMQ_URL unset: run pnpm test:elasticmq)' : ''}`, () => {
  describeConformance({
    name: 'aws (ElasticMQ, SQS kept on disk)',
    capabilities,
    connect: () => connect(`${url}&waitTimeSeconds=2`, { adapter }),
    hooks: { restartBroker: killAndRestart },
    timeScale: 2,
    // Known gap (README, "Connection health"): only a consumer's receive loop reports state on SQS, so
    // the producer of the recovery case, which sends nothing while ElasticMQ is down, sees no outage.
    observesReconnects: false,
    // Every message is an H2 commit written at once (WRITE_DELAY=0, what survives a SIGKILL): the
    // default 50 × 100 stress case outlasts its 120 s here; this size finished the others in ~60 s.
    stress: { publishers: 10, messagesPerPublisher: 50, consumers: 10 },
    volume: 2_000,
    // ElasticMQ has no SNS: the groups that touch only queues.
    groups: ['queue', 'recovery'],
  })
})
