import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const script = process.env.ANYMQ_BROKERS_SCRIPT ?? fileURLToPath(new URL('../../../scripts/brokers.sh', import.meta.url))

/**
 * A RabbitMQ node of this test's own, on another port and data directory (the broker script's
 * isolated-set mode), so stopping it disturbs nobody else's tests against the shared broker.
 */
export class PrivateRabbitmq {
  readonly url: string
  private readonly environment: NodeJS.ProcessEnv
  private readonly directory: string

  constructor(
    readonly port: number,
    managementPort = port + 10_000,
  ) {
    this.directory = mkdtempSync(join(tmpdir(), 'anymq-outbox-rabbitmq-'))
    this.url = `amqp://guest:guest@127.0.0.1:${port}`
    this.environment = {
      ...process.env,
      ANYMQ_BROKERS_DIR: this.directory,
      ANYMQ_RABBITMQ_PORT: String(port),
      ANYMQ_RABBITMQ_MGMT_PORT: String(managementPort),
    }
  }

  static available(): boolean {
    return existsSync(script) && existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server')
  }

  async up(): Promise<void> {
    await run(script, ['up', 'rabbitmq'], { env: this.environment, timeout: 180_000 })
  }

  async down(): Promise<void> {
    await run(script, ['down', 'rabbitmq'], { env: this.environment, timeout: 120_000 })
  }

  async remove(): Promise<void> {
    await this.down().catch(() => {})
    rmSync(this.directory, { recursive: true, force: true })
  }
}
