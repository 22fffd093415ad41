import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { startRelayProcess } from '../src/relay-process.js'

const directories: string[] = []
afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true })
})

function scratch(): string {
  const directory = mkdtempSync(join(tmpdir(), 'anymq-relay-flags-'))
  directories.push(directory)
  return directory
}

async function refusal(argv: string[]): Promise<ConfigError> {
  const error = await startRelayProcess(argv, {}).then(
    (running) => running?.stop().then(() => new Error('the relay started')),
    (caught: unknown) => caught,
  )
  expect(error).toBeInstanceOf(ConfigError)
  return error as ConfigError
}

describe('anymq-outbox-relay flags, checked before anything is opened', () => {
  it('refuses a database that is neither postgres:// nor sqlite:, instead of creating an empty SQLite file of that name', async () => {
    const file = join(scratch(), 'shop.db')
    const bare = await refusal(['--database', file, '--broker', 'memory://'])
    expect(bare.message).toContain('--database: expected postgres://…, postgresql://… or sqlite:<file>, got a path without the sqlite: prefix')
    expect(existsSync(file)).toBe(false)

    const typo = await refusal(['--database', 'postgress://app:typo-s3cr3t@127.0.0.1:1/shop', '--broker', 'memory://'])
    expect(typo.message).toContain("--database: expected postgres://…, postgresql://… or sqlite:<file>, got a URL with scheme 'postgress:'")
    expect(typo.message).not.toContain('typo-s3cr3t')

    const badPort = await refusal(['--database', 'postgres://app:port-s3cr3t@127.0.0.1:fivefour/shop', '--broker', 'memory://'])
    expect(badPort.message).toContain('--database: not a valid postgres:// URL')
    expect(badPort.message).not.toContain('port-s3cr3t')
  })

  it('reports every out-of-range number at once, with the range each flag takes', async () => {
    const file = join(scratch(), 'relay.db')
    const error = await refusal([
      '--database',
      `sqlite:${file}`,
      '--broker',
      'memory://',
      '--batch-size',
      '0',
      '--concurrency',
      '65',
      '--max-attempts',
      'x',
      '--lease-ms',
      '0',
    ])
    expect(error.problems).toEqual([
      { field: '--batch-size', message: 'expected an integer from 1 to 10000, got 0' },
      { field: '--concurrency', message: 'expected an integer from 1 to 64, got 65' },
      { field: '--max-attempts', message: 'expected a whole number, got "x"' },
      { field: '--lease-ms', message: 'expected an integer from 100 to ∞, got 0' },
    ])
    expect(existsSync(file)).toBe(false)
  })
})
