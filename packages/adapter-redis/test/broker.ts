import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Restarts the test Redis through the project's broker script, keeping its data (AOF). */
export async function restartRedis(): Promise<void> {
  const script = process.env.ANYMQ_BROKERS_SCRIPT
  if (!script) throw new Error('ANYMQ_BROKERS_SCRIPT is not set: eval "$(scripts/brokers.sh env)"')
  await run(script, ['restart', 'redis'], { timeout: 120_000 })
}

/** Runs `redis-cli` against the server of `url` (a foreign client: no anymq, no ioredis). */
export async function redisCli(url: string, ...args: string[]): Promise<string[]> {
  const { stdout } = await run('redis-cli', ['-u', url, '--raw', ...args], { timeout: 30_000, encoding: 'utf8' })
  return stdout.replace(/\n$/, '').split('\n')
}
