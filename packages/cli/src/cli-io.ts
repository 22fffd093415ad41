import type { ProgressStream } from './progress-bar.js'

/** Where a command writes; tests pass string collectors, the binary passes process streams. */
export interface CliIo {
  stdout: ProgressStream
  stderr: ProgressStream
}

/** A command-line mistake: printed with the usage and exit code 2. */
export class UsageError extends Error {}

export function line(stream: ProgressStream, text = ''): void {
  stream.write(`${text}\n`)
}
