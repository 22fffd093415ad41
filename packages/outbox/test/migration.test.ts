import { readFileSync } from 'node:fs'
import { ConfigError } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { defaultTableNames, migrationSql, postgresOutbox, sqliteOutbox } from '../src/index.js'
import { openSqlite, type StoreFixture, stores, uniqueTables, unsetReason } from './fixtures.js'

describe('schema migration', () => {
  it('ships plain SQL with the default names, and renames every table, index, trigger and channel', () => {
    for (const dialect of ['postgres', 'sqlite'] as const) {
      const shipped = readFileSync(new URL(`../sql/${dialect}.sql`, import.meta.url), 'utf8')
      expect(migrationSql(dialect, defaultTableNames)).toBe(shipped)
      const renamed = migrationSql(dialect, { outbox: 'shop_outbox', deadLetters: 'shop_failed', inbox: 'shop_inbox' })
      expect(renamed).not.toMatch(/anymq_/)
      expect(renamed).toMatch(/CREATE TABLE IF NOT EXISTS shop_outbox \(/)
      expect(renamed).toMatch(/CREATE TABLE IF NOT EXISTS shop_failed \(/)
      expect(renamed).toMatch(/CREATE TABLE IF NOT EXISTS shop_inbox \(/)
      expect(renamed).toMatch(/shop_outbox_pending_idx ON shop_outbox/)
      if (dialect === 'postgres') expect(renamed).toMatch(/pg_notify\('shop_outbox'/)
    }
  })

  it('rejects table names that are not plain identifiers, every problem at once', () => {
    const database = openSqlite(':memory:')
    try {
      let error: unknown
      try {
        sqliteOutbox({ database, tables: { outbox: 'Orders Outbox', inbox: 'twice', deadLetters: 'twice', extra: 'x' } as never })
      } catch (caught) {
        error = caught
      }
      expect(error).toBeInstanceOf(ConfigError)
      const fields = (error as ConfigError).problems.map((problem) => problem.field)
      expect(fields).toEqual(expect.arrayContaining(['sqlite outbox.tables.outbox', 'sqlite outbox.tables.extra', 'sqlite outbox.tables']))
    } finally {
      database.close()
    }
  })

  for (const store of stores) {
    it.skipIf(!store.available)(`creates the tables under configured names on ${store.name}, and can run again${unsetReason(...store.needs)}`, async () => {
      let fixture: StoreFixture<any> | undefined
      try {
        fixture = await store.create()
        await fixture.outbox.migrate()
        const tables = uniqueTables()
        const again =
          store.name === 'postgres'
            ? postgresOutbox({ pool: (fixture.outbox.store as any).pool, tables })
            : sqliteOutbox({ database: (fixture.outbox.store as any).database, tables })
        await Promise.all([again.migrate(), again.migrate()])
        for (const table of Object.values(tables)) expect(await fixture.count(table)).toBe(0)
        await fixture.query(`DROP TABLE ${tables.outbox}`)
        await fixture.query(`DROP TABLE ${tables.deadLetters}`)
        await fixture.query(`DROP TABLE ${tables.inbox}`)
        if (store.name === 'postgres') await fixture.query(`DROP FUNCTION ${tables.outbox}_notify()`)
      } finally {
        await fixture?.close()
      }
    })
  }
})
