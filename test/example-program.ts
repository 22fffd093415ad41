import { execFile } from 'node:child_process'
import { uniqueName } from '@anymq/conformance'

// What the README example tests share: a README's example made safe to run again on a shared broker, and run
// as a program of its own, as a user runs what they copied.

/**
 * Queue, topic, responder and requester calls with a written-out name, and `deadLetter` options; type arguments
 * may nest one level (`topic<z.infer<typeof OrderPlaced>>(`).
 */
const namedCall = /(\.(?:queue|topic|responder|requester)(?:<(?:[^<>]|<[^<>]*>)*>)?\(|deadLetter: )'([^']+)'/g

/** The example with each of those names made unique (one name, one replacement), and the names it replaced. */
export function withUniqueNames(source: string): { program: string; replaced: string[] } {
  const renamed = new Map<string, string>()
  const unique = (name: string) => renamed.get(name) ?? renamed.set(name, uniqueName(name.replace(/\W+/g, '-'))).get(name) ?? name
  const program = source.replace(namedCall, (_, call: string, name: string) => `${call}'${unique(name)}'`)
  return { program, replaced: [...renamed.keys()] }
}

/**
 * Runs a TypeScript file as tsx would, from the workspace's sources, with `env` added to this process's
 * environment; killed after `timeoutMs`, which shows as `code: null`.
 */
export function runProgram(
  file: string,
  options: { cwd: string; env: Record<string, string | undefined>; timeoutMs: number },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['--conditions=@anymq/source', '--import', 'tsx', file],
      { cwd: options.cwd, env: { ...process.env, ...options.env }, timeout: options.timeoutMs },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    )
  })
}
