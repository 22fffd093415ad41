import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)
const script = process.env.ANYMQ_BROKERS_SCRIPT ?? fileURLToPath(new URL('../../../scripts/brokers.sh', import.meta.url))

/**
 * A RabbitMQ node of the test's own (the broker script's isolated mode: its own data directory,
 * ports and Erlang node name), so that killing it disturbs nobody else's broker.
 */
export class RabbitmqNode {
  readonly url: string
  private readonly directory: string
  private readonly environment: NodeJS.ProcessEnv

  /** `port` is the AMQP port; the next two are the management and Erlang distribution ports. */
  constructor(readonly port: number) {
    this.directory = mkdtempSync(join(tmpdir(), 'anymq-rabbitmq-node-'))
    this.url = `amqp://guest:guest@127.0.0.1:${port}`
    this.environment = {
      ...process.env,
      ANYMQ_BROKERS_DIR: this.directory,
      ANYMQ_RABBITMQ_PORT: String(port),
      ANYMQ_RABBITMQ_MGMT_PORT: String(port + 1),
      RABBITMQ_DIST_PORT: String(port + 2),
      // No amqps listener: it would compete for the shared node's TLS port, and this node needs none.
      ANYMQ_TLS: '0',
    }
  }

  static available(): boolean {
    return existsSync(script) && existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server')
  }

  /** Starts the node (again, keeping its data) and resolves once it accepts AMQP connections. */
  async start(): Promise<void> {
    await run(script, ['up', 'rabbitmq'], { env: this.environment, timeout: 180_000 })
  }

  /** A clean stop (SIGTERM: the node closes its queues and message stores in order). */
  async stop(): Promise<void> {
    await run(script, ['down', 'rabbitmq'], { env: this.environment, timeout: 120_000 })
  }

  /**
   * SIGKILL to this node's Erlang VM, named by the pid file of this node's own directory, and only
   * after checking that the process with that pid was started from that directory.
   */
  async kill(): Promise<void> {
    const pid = Number(readFileSync(join(this.directory, 'rabbitmq', 'rabbitmq.pid'), 'utf8').trim())
    const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    if (!commandLine.includes(this.directory)) throw new Error(`pid ${pid} is not the RabbitMQ node started in ${this.directory}`)
    process.kill(pid, 'SIGKILL')
    const deadline = Date.now() + 30_000
    while (existsSync(`/proc/${pid}`) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  }

  async remove(): Promise<void> {
    await this.stop().catch(() => {})
    rmSync(this.directory, { recursive: true, force: true })
  }
}
