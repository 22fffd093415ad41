import { readFileSync } from 'node:fs'
import { ConfigError } from '@anymq/core'

/** Names of the tables the outbox and the inbox use. Plain lowercase SQL identifiers. */
export interface TableNames {
  /** Pending and recently sent messages. Default `anymq_outbox`; also the Postgres NOTIFY channel. */
  outbox: string
  /** Rows the relay gave up on. Default `anymq_outbox_dead_letters`. */
  deadLetters: string
  /** Processed message ids of the idempotent consumer. Default `anymq_inbox`. */
  inbox: string
}

export const defaultTableNames: TableNames = {
  outbox: 'anymq_outbox',
  deadLetters: 'anymq_outbox_dead_letters',
  inbox: 'anymq_inbox',
}

const identifier = /^[a-z_][a-z0-9_]{0,47}$/

/** Fills defaults and checks every name at once. */
export function resolveTableNames(names: Partial<TableNames> | undefined, where: string): TableNames {
  const resolved = { ...defaultTableNames, ...names }
  const problems = []
  for (const [field, value] of Object.entries(resolved)) {
    if (!(field in defaultTableNames))
      problems.push({ field: `${where}.tables.${field}`, message: `unknown table; allowed: ${Object.keys(defaultTableNames).join(', ')}` })
    else if (typeof value !== 'string' || !identifier.test(value))
      problems.push({
        field: `${where}.tables.${field}`,
        message: `${JSON.stringify(value)} is not a plain lowercase SQL identifier (letters, digits, '_', at most 48); set the schema with search_path instead`,
      })
  }
  if (new Set([resolved.outbox, resolved.deadLetters, resolved.inbox]).size !== 3)
    problems.push({ field: `${where}.tables`, message: 'the three table names must differ' })
  if (problems.length > 0) throw new ConfigError(problems, { adapter: 'outbox' })
  return resolved
}

/** The shipped migration for `dialect` with the default table names replaced by `names`. */
export function migrationSql(dialect: 'postgres' | 'sqlite', names: TableNames): string {
  const text = readFileSync(new URL(`../sql/${dialect}.sql`, import.meta.url), 'utf8')
  return renameTables(text, names)
}

/** Renames every identifier that starts with a default table name (indexes, trigger and channel included). */
export function renameTables(sql: string, names: TableNames): string {
  return sql.replace(/\banymq_(outbox_dead_letters|outbox|inbox)(\w*)/g, (_match, table: string, suffix: string) => {
    const name = table === 'outbox_dead_letters' ? names.deadLetters : table === 'outbox' ? names.outbox : names.inbox
    return `${name}${suffix}`
  })
}
