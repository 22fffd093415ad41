import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const packageDirectory = fileURLToPath(new URL('..', import.meta.url))
const child = fileURLToPath(new URL('./kinesis-worker-child.ts', import.meta.url))

/**
 * Starts a consumer of `queue` in a process of its own (from source): it prints `ready` once it
 * holds its leases and `got <body>` for every record, whose handler then never returns, so nothing
 * it received is ever acked or checkpointed.
 */
export function spawnWorker(url: string, queue: string): { process: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const worker = spawn(process.execPath, ['--conditions=@anymq/source', '--import', 'tsx', child, url, queue], {
    cwd: packageDirectory,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env },
  })
  let output = ''
  worker.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  worker.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString()
  })
  const exited = new Promise<number | null>((resolve) => worker.on('exit', (code) => resolve(code)))
  return { process: worker, output: () => output, exited }
}
