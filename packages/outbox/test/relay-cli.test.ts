import { describe, expect, it } from 'vitest'
import { postgresUrl, type StoreFixture, sqliteFixture, uniqueName, unsetReason, waitUntil } from './fixtures.js'
import { spawnRelay } from './relay-process.js'

describe('anymq-outbox-relay (the relay as its own process)', () => {
  it('prints its options with --help', async () => {
    const relay = spawnRelay(['--help'])
    expect(await relay.exited).toBe(0)
    expect(relay.output()).toMatch(/--database <url>[\s\S]*--broker <url>[\s\S]*--retention-ms/)
  })

  it('reports every bad option at once and exits with 2', async () => {
    const relay = spawnRelay(['--batch-size', 'lots'])
    expect(await relay.exited).toBe(2)
    const output = relay.output()
    expect(output).toMatch(/--database: required/)
    expect(output).toMatch(/--broker: required/)
    expect(output).toMatch(/--batch-size: expected a whole number, got "lots"/)
  })

  it.skipIf(!postgresUrl)(`never prints the database password${unsetReason('postgres')}`, async () => {
    const url = new URL(postgresUrl!)
    url.password = 'not-the-password-s3cr3t'
    const relay = spawnRelay(['--database', url.toString(), '--broker', 'memory://', '--migrate'])
    expect(await relay.exited).toBe(2)
    expect(relay.output()).toMatch(/password authentication failed|\[anymq\]/)
    expect(relay.output()).not.toContain('not-the-password-s3cr3t')
  })

  it('migrates, relays and stops gracefully on SIGTERM', async () => {
    let fixture: StoreFixture<any> | undefined
    try {
      fixture = await sqliteFixture()
      const queue = uniqueName('cli')
      await fixture.commit((tx) => fixture!.outbox.add(tx, queue, { hello: 'world' }))
      const relay = spawnRelay([
        '--database',
        fixture.databaseUrl,
        '--broker',
        'memory://',
        '--migrate',
        '--outbox-table',
        fixture.tables.outbox,
        '--retention-ms',
        '0',
      ])
      await waitUntil(async () => (await fixture!.count(fixture!.tables.outbox)) === 0, 30_000, `the relay to publish and delete the row:\n${relay.output()}`)
      relay.process.kill('SIGTERM')
      expect(await relay.exited).toBe(0)
      expect(relay.output()).toContain(`relaying sqlite table ${fixture.tables.outbox} to memory://`)
    } finally {
      await fixture?.close()
    }
  })
})
