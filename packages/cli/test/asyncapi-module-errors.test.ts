import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { anymq } from './run-cli.js'

const directory = mkdtempSync(join(tmpdir(), 'anymq-asyncapi-'))
afterAll(() => rmSync(directory, { recursive: true, force: true }))

function moduleFile(name: string, source: string): string {
  const file = join(directory, name)
  writeFileSync(file, source)
  return file
}

// A user's mistake in the module named on the command line gets one line saying what went wrong, not
// Node's stack trace through the CLI's own sources.
describe('anymq asyncapi with a module that does not load or declare', () => {
  it('a path that names no module is a usage error (exit 2) naming the path', async () => {
    const missing = join(directory, 'no-such-module.mjs')
    const { code, stderr } = await anymq('asyncapi', missing)
    expect(code).toBe(2)
    expect(stderr).toContain(`anymq asyncapi: no module at ${missing}`)
    expect(stderr).not.toMatch(/\n\s+at /)
  })

  it('a module that fails to import says so with its error, without a stack (exit 1)', async () => {
    const broken = moduleFile('broken.mjs', 'export const x = (\n')
    const { code, stderr } = await anymq('asyncapi', broken)
    expect(code).toBe(1)
    expect(stderr).toContain(`anymq asyncapi: ${broken} could not be imported: `)
    expect(stderr).not.toMatch(/\n\s+at /)
  })

  it('a declaring function that throws is named with its error, any password in it redacted, without a stack (exit 1)', async () => {
    const throwing = moduleFile('throwing.mjs', "export function declare() { throw new Error('cannot reach amqp://app:hunter2-s3cr3t@mq.internal:5672') }\n")
    const { code, stderr } = await anymq('asyncapi', throwing)
    expect(code).toBe(1)
    expect(stderr).toContain(`anymq asyncapi: the declaring function of ${throwing} threw Error: cannot reach amqp://app:***@mq.internal:5672`)
    expect(stderr).not.toContain('hunter2-s3cr3t')
    expect(stderr).not.toMatch(/\n\s+at /)
  })
})
