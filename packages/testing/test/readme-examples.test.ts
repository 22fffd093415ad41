import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'

// This package's README examples are test files; each is run as a user copies it, by vitest in a
// process of its own, from a folder inside this package (so `@anymq/testing` resolves to it by name).

const packageRoot = join(import.meta.dirname, '..')
const examples = [...readFileSync(join(packageRoot, 'README.md'), 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((match) => match[1] as string)
const vitest = join(packageRoot, '..', '..', 'node_modules', 'vitest', 'vitest.mjs')
const directory = join(packageRoot, '.cache', `readme-examples-${process.pid}`)
afterAll(() => rmSync(directory, { recursive: true, force: true }))

function runExample(name: string, source: string): Promise<{ code: number | null; output: string }> {
  mkdirSync(directory, { recursive: true })
  writeFileSync(
    join(directory, 'vitest.config.mjs'),
    `export default { resolve: { conditions: ['@anymq/source'] }, ssr: { resolve: { conditions: ['@anymq/source'] } }, test: { include: ['*.test.ts'] } }\n`,
  )
  writeFileSync(join(directory, `${name}.test.ts`), source)
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [vitest, 'run', '--root', directory, '--reporter=default', `${name}.test.ts`],
      { env: { ...process.env, ANYMQ_VITEST_REPORT: '', CI: '', NO_COLOR: '1' }, timeout: 60_000 },
      (_error, stdout, stderr) => resolve({ code: child.exitCode, output: stdout + stderr }),
    )
  })
}

describe('the README examples', () => {
  it('are two test files', () => {
    expect(examples).toHaveLength(2)
    for (const example of examples) expect(example).toContain("from 'vitest'")
  })

  it('"The bug it catches": the chaos run fails the non-idempotent handler with seed 7 as the comment says', async () => {
    const { code, output } = await runExample('payments-chaos', examples[0] as string)
    expect(output).toContain('expected 324 to be 465')
    expect(code).toBe(1)
  })

  it('"The bug it catches": the same test without chaos passes', async () => {
    const plain = (examples[0] as string).replace(/createTestBroker\(\{ chaos: [^\n]*\}\)/, 'createTestBroker()')
    expect(plain).not.toContain('chaos:')
    const { code, output } = await runExample('payments-plain', plain)
    expect(output).toContain('1 passed')
    expect(code).toBe(0)
  })

  it('"Fake clock" passes', async () => {
    const { code, output } = await runExample('billing', examples[1] as string)
    expect(output).toContain('1 passed')
    expect(code).toBe(0)
  })
})
