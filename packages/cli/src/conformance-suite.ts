// The vitest file `anymq conformance` runs: the shared suite against the URL it was given. Settings
// come in ANYMQ_CONFORMANCE_SETTINGS (JSON), so the URL and its password never reach a command line.
import { spawn } from 'node:child_process'
import { describeConformance } from '@anymq/conformance'
import { connect, silentLogger } from '@anymq/core'
import type { ConformanceSettings } from './conformance-settings.js'
import { importAdapterFor } from './connect-url.js'

const settings = JSON.parse(process.env.ANYMQ_CONFORMANCE_SETTINGS ?? 'null') as ConformanceSettings
await importAdapterFor(settings.url)
const probe = await connect(settings.url, { logger: silentLogger })
await probe.close()

describeConformance({
  name: `${probe.adapter} at ${probe.url}`,
  capabilities: probe.capabilities,
  connect: () => connect(settings.url, { logger: silentLogger }),
  groups: settings.groups,
  timeScale: settings.timeScale,
  volume: settings.volume,
  hooks: settings.restartCommand === undefined ? {} : { restartBroker: () => runShell(settings.restartCommand as string) },
})

/** Runs the user's restart command in a shell; resolves when it exits 0. */
function runShell(command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, { shell: true, stdio: ['ignore', 'inherit', 'inherit'] })
    child.on('error', reject)
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`--restart-command exited with ${code}: ${command}`))))
  })
}
