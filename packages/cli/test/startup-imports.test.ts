import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const repository = fileURLToPath(new URL('../../..', import.meta.url))
const cliFolder = fileURLToPath(new URL('..', import.meta.url))
const recorder = fileURLToPath(new URL('./record-loaded-modules.mjs', import.meta.url))

/** Runs node from source (tsx) in `cwd` with `args`, and resolves with every module URL the process loaded. */
function loadedModules(cwd: string, args: string[]): Promise<string[]> {
  const file = join(mkdtempSync(join(tmpdir(), 'anymq-startup-')), 'loaded.txt')
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--conditions=@anymq/source', '--import', 'tsx', '--import', recorder, ...args],
      { cwd, env: { ...process.env, ANYMQ_LOADED_MODULES_FILE: file } },
      (error) => {
        // `anymq send --help` exits 2 (usage); only a missing record is a failure here.
        try {
          resolve(readFileSync(file, 'utf8').split('\n'))
        } catch {
          reject(error ?? new Error('the process wrote no module list'))
        }
      },
    )
  })
}

const vitestModules = (urls: string[]) => urls.filter((url) => /[/\\]vitest[/\\@]|[/\\]@vitest[/\\]/.test(url))

describe('anymq startup', () => {
  it('never loads vitest for the everyday commands (only `anymq conformance` imports it, when it runs)', async () => {
    const cli = join(cliFolder, 'src/anymq.ts')
    // Side by side: each is a node process of its own. The last one is the control: the main entry of
    // @anymq/conformance imports vitest, so the recorder would see vitest if the CLI loaded it.
    const [help, send, control] = await Promise.all([
      loadedModules(repository, [cli, 'send', '--help']),
      loadedModules(repository, [cli, 'send', 'memory://startup', 'startup-queue', '{"ok":true}']),
      loadedModules(cliFolder, ['--input-type=module', '--eval', "await import('@anymq/conformance')"]),
    ])
    for (const urls of [help, send]) {
      expect(urls.some((url) => url.endsWith('/cli-main.ts'))).toBe(true)
      expect(vitestModules(urls)).toEqual([])
    }
    // The send really ran: it imported the memory adapter on demand.
    expect(send.some((url) => url.includes('adapter-memory'))).toBe(true)
    expect(vitestModules(control).length).toBeGreaterThan(0)
  })
})
