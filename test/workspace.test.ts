import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadAdapters, renderMatrix, replaceMatrix } from '../scripts/capability-matrix.js'

const root = join(import.meta.dirname, '..')
const adapterFolders = readdirSync(join(root, 'packages')).filter((name) => name.startsWith('adapter-'))

describe('workspace consistency', () => {
  it('keeps the README capability matrix generated from the adapters’ capabilities', async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8')
    expect(replaceMatrix(readme, renderMatrix(await loadAdapters()))).toBe(readme)
  })

  it.each(adapterFolders)('%s has src/index.ts, a README with a capability table and an example, and a conformance test', (folder) => {
    const base = join(root, 'packages', folder)
    expect(existsSync(join(base, 'src', 'index.ts'))).toBe(true)
    expect(existsSync(join(base, 'test', 'conformance.test.ts'))).toBe(true)
    const readme = readFileSync(join(base, 'README.md'), 'utf8')
    expect(readme).toMatch(/```(ts|typescript)/)
    expect(readme.toLowerCase()).toContain('capabilit')
    const manifest = JSON.parse(readFileSync(join(base, 'package.json'), 'utf8')) as {
      exports: Record<string, unknown>
      peerDependencies?: Record<string, string>
      scripts?: Record<string, string>
    }
    expect(Object.keys(manifest.exports)).toContain('.')
    expect(manifest.peerDependencies?.['@anymq/core']).toBeDefined()
    expect(manifest.scripts?.build).toBeDefined()
  })
})
