import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, describe, expect, it } from 'vitest'
import { postgresUrl, unsetReason } from './fixtures.js'

// The README's "## Example", run as a user copies it: a program of its own, from a folder inside this
// package (so `@anymq/outbox` resolves to it by name), that must print its invoice and exit by itself.
// Its tables (the outbox's default ones, `orders`, `invoices`) go to a schema of this run alone: the
// default outbox table is shared by every program on the database, and another one's relay would
// publish this run's row (or this relay another's).

const packageRoot = join(import.meta.dirname, '..')
const example = readFileSync(join(packageRoot, 'README.md'), 'utf8')
  .split('\n## Example\n')[1]
  ?.match(/```ts\n([\s\S]*?)```/)?.[1]
const directory = join(packageRoot, '.cache', `readme-example-${process.pid}`)
const schema = `readme_${randomBytes(4).toString('hex')}`

afterAll(async () => {
  rmSync(directory, { recursive: true, force: true })
  if (!postgresUrl) return
  const admin = new pg.Client({ connectionString: postgresUrl })
  await admin.connect()
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await admin.end()
})

describe('the README example', () => {
  it('is found under "## Example"', () => {
    expect(example).toContain("from '@anymq/outbox'")
  })

  it.skipIf(!postgresUrl)(`writes an order, relays its event and prints the invoice, then exits, on memory://${unsetReason('postgres')}`, async () => {
    const admin = new pg.Client({ connectionString: postgresUrl })
    await admin.connect()
    await admin.query(`CREATE SCHEMA ${schema}`)
    await admin.end()
    const databaseUrl = new URL(postgresUrl as string)
    databaseUrl.searchParams.set('options', `-c search_path=${schema}`)
    mkdirSync(directory, { recursive: true })
    const file = join(directory, 'example.ts')
    writeFileSync(file, example ?? '')
    const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = execFile(
        process.execPath,
        ['--conditions=@anymq/source', '--import', 'tsx', file],
        { cwd: packageRoot, env: { ...process.env, DATABASE_URL: databaseUrl.href, ANYMQ_URL: 'memory://' }, timeout: 60_000 },
        (_error, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
      )
    })
    expect(result).toEqual({ code: 0, stdout: expect.stringMatching(/^invoiced o-\d+\n$/), stderr: '' })
  })
})
