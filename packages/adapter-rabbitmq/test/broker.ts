import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Restarts the RabbitMQ started by scripts/brokers.sh, keeping its data; resolves once it accepts connections. */
export async function restartRabbitmq(): Promise<void> {
  const script = process.env.ANYMQ_BROKERS_SCRIPT
  if (!script) throw new Error('ANYMQ_BROKERS_SCRIPT is not set: export the lines of scripts/brokers.sh env')
  await run(script, ['restart', 'rabbitmq'], { timeout: 180_000 })
}
