import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const packageDirectory = fileURLToPath(new URL('..', import.meta.url))
const child = fileURLToPath(new URL('./relay-child.ts', import.meta.url))

/** Starts `anymq-outbox-relay` (from source) as a child process; its output is kept for failure messages. */
export function spawnRelay(args: readonly string[]): { process: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const relay = spawn(process.execPath, ['--conditions=@anymq/source', '--import', 'tsx', child, ...args], {
    cwd: packageDirectory,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env },
  })
  let output = ''
  relay.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  relay.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => relay.once('exit', (code) => resolve(code)))
  return { process: relay, output: () => output, exited }
}
