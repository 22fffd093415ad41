import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Restarts the test nats-server through the project's broker script, keeping its JetStream store. */
export async function restartNats(): Promise<void> {
  const script = process.env.ANYMQ_BROKERS_SCRIPT
  if (!script) throw new Error('ANYMQ_BROKERS_SCRIPT is not set: eval "$(scripts/brokers.sh env)"')
  await run(script, ['restart', 'nats'], { timeout: 120_000 })
}
