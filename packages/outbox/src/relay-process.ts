import { parseArgs } from 'node:util'
import { type Anymq, ConfigError, connect, redactUrl } from '@anymq/core'
import { type ConfigProblem, integer, type OptionCheck, registerSecret } from '@anymq/core/spi'
import type { PostgresPool, SqliteDatabase } from './database-types.js'
import type { Outbox } from './outbox.js'
import { postgresOutbox, sqliteOutbox } from './outbox.js'
import { type OutboxRelayOptions, relayChecks } from './outbox-relay.js'

const usage = `anymq-outbox-relay — publishes committed outbox rows through anymq

Usage: anymq-outbox-relay --database <url> --broker <url> [options]

  --database <url>          postgres://user:pass@host/db, or sqlite:<file> (env ANYMQ_OUTBOX_DATABASE)
  --broker <url>            anymq broker URL: amqp://…, kafka://…, redis://…, sqs://… (env ANYMQ_URL)
  --adapter <package>       import this adapter package before connecting (e.g. @anymq/rabbitmq)
  --migrate                 create the tables first (safe to repeat)
  --outbox-table <name>     default anymq_outbox
  --dead-letter-table <n>   default anymq_outbox_dead_letters
  --batch-size <n>          rows per round (200)
  --concurrency <n>         rounds at once (1)
  --poll-interval-ms <n>    longest idle wait (postgres 1000, sqlite 20)
  --max-attempts <n>        failed publishes before a row is dead-lettered (10)
  --publish-timeout-ms <n>  (30000)
  --retention-ms <n>        keep sent rows this long; 0 deletes at once (3600000)
  --lease-ms <n>            sqlite: how long a claim holds its rows (60000)
  --help

Stops gracefully on SIGTERM or SIGINT (finishes the round in progress).`

const integerOptions = ['batch-size', 'concurrency', 'poll-interval-ms', 'max-attempts', 'publish-timeout-ms', 'retention-ms', 'lease-ms'] as const

/**
 * The range each numeric flag takes: the relay's own checks (and the SQLite store's lease minimum),
 * run on the flags up front so every bad one is reported at once, before a database or broker is opened.
 */
const flagRanges: Record<(typeof integerOptions)[number], OptionCheck> = {
  'batch-size': relayChecks.batchSize,
  concurrency: relayChecks.concurrency,
  'poll-interval-ms': relayChecks.pollIntervalMs,
  'max-attempts': relayChecks.maxAttempts,
  'publish-timeout-ms': relayChecks.publishTimeoutMs,
  'retention-ms': relayChecks.retentionMs,
  'lease-ms': integer(100),
}

const postgresScheme = /^postgres(ql)?:\/\//
const sqliteScheme = /^sqlite:/

/** A database that is neither `postgres://` nor `sqlite:` would be opened as a SQLite file of that name (a typo makes an empty database). */
function databaseProblem(database: string): ConfigProblem | undefined {
  if (sqliteScheme.test(database)) return undefined
  if (postgresScheme.test(database)) {
    if (URL.canParse(database)) return undefined
    // pg would only say "Invalid URL"; the value is not shown, it holds the password.
    return { field: '--database', message: 'not a valid postgres:// URL (postgres://user:password@host:port/database, the password URL-encoded)' }
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(database)?.[1]
  const got = scheme ? `a URL with scheme '${scheme}:'` : 'a path without the sqlite: prefix'
  return { field: '--database', message: `expected postgres://…, postgresql://… or sqlite:<file>, got ${got}` }
}

export interface RelayProcess {
  stop(): Promise<void>
}

/** Starts a relay from command-line arguments; resolves once it runs. */
export async function startRelayProcess(argv: readonly string[], environment: NodeJS.ProcessEnv = process.env): Promise<RelayProcess | undefined> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      database: { type: 'string' },
      broker: { type: 'string' },
      adapter: { type: 'string', multiple: true },
      migrate: { type: 'boolean' },
      'outbox-table': { type: 'string' },
      'dead-letter-table': { type: 'string' },
      help: { type: 'boolean' },
      ...Object.fromEntries(integerOptions.map((name) => [name, { type: 'string' as const }])),
    },
    strict: true,
  })
  if (values.help) {
    console.log(usage)
    return undefined
  }
  const problems: { field: string; message: string }[] = []
  const database = (values.database as string | undefined) ?? environment.ANYMQ_OUTBOX_DATABASE
  const broker = (values.broker as string | undefined) ?? environment.ANYMQ_URL
  if (!database) problems.push({ field: '--database', message: 'required (or ANYMQ_OUTBOX_DATABASE): postgres://… or sqlite:<file>' })
  else {
    const problem = databaseProblem(database)
    if (problem) problems.push(problem)
  }
  if (!broker) problems.push({ field: '--broker', message: 'required (or ANYMQ_URL): the anymq broker URL' })
  const numbers: Record<string, number> = {}
  for (const name of integerOptions) {
    const text = (values as Record<string, unknown>)[name] as string | undefined
    if (text === undefined) continue
    const value = Number(text)
    if (!Number.isInteger(value) || value < 0) problems.push({ field: `--${name}`, message: `expected a whole number, got ${JSON.stringify(text)}` })
    else {
      const before = problems.length
      flagRanges[name](value, `--${name}`, problems)
      if (problems.length === before) numbers[name] = value
    }
  }
  if (problems.length > 0) throw new ConfigError(problems, { adapter: 'outbox' })
  try {
    registerSecret(decodeURIComponent(new URL(database!).password))
  } catch {}
  for (const name of (values.adapter as string[] | undefined) ?? []) await import(name)

  const tables = {
    ...(values['outbox-table'] ? { outbox: values['outbox-table'] as string } : {}),
    ...(values['dead-letter-table'] ? { deadLetters: values['dead-letter-table'] as string } : {}),
  }
  let closeDatabase: () => Promise<void>
  let outbox: Outbox<unknown>
  if (postgresScheme.test(database!)) {
    const pg = (await import('pg')) as unknown as { default: { Pool: new (options: object) => PostgresPool & { end(): Promise<void> } } }
    const pool = new pg.default.Pool({ connectionString: database, max: (numbers.concurrency ?? 1) + 2 })
    outbox = postgresOutbox({ pool, tables }) as Outbox<unknown>
    closeDatabase = () => pool.end()
  } else {
    const file = database!.replace(/^sqlite:(\/\/)?/, '')
    const sqlite = (await import('better-sqlite3')) as unknown as {
      default: new (file: string) => SqliteDatabase & { close(): void; pragma(text: string): unknown }
    }
    const db = new sqlite.default(file)
    db.pragma('journal_mode = WAL')
    db.pragma('busy_timeout = 5000')
    outbox = sqliteOutbox({ database: db, tables, ...(numbers['lease-ms'] !== undefined ? { leaseMs: numbers['lease-ms'] } : {}) }) as Outbox<unknown>
    closeDatabase = async () => db.close()
  }
  let mq: Anymq | undefined
  try {
    if (values.migrate) await outbox.migrate()
    mq = await connect(broker!)
  } catch (error) {
    await closeDatabase()
    throw error
  }
  const options: OutboxRelayOptions = { mq }
  if (numbers['batch-size'] !== undefined) options.batchSize = numbers['batch-size']
  if (numbers.concurrency !== undefined) options.concurrency = numbers.concurrency
  if (numbers['poll-interval-ms'] !== undefined) options.pollIntervalMs = numbers['poll-interval-ms']
  if (numbers['max-attempts'] !== undefined) options.maxAttempts = numbers['max-attempts']
  if (numbers['publish-timeout-ms'] !== undefined) options.publishTimeoutMs = numbers['publish-timeout-ms']
  if (numbers['retention-ms'] !== undefined) options.retentionMs = numbers['retention-ms']
  const relay = outbox.startRelay(options)
  console.log(`anymq-outbox-relay: relaying ${outbox.store.dialect} table ${outbox.store.tables.outbox} to ${redactUrl(broker!)}`)
  let stopping: Promise<void> | undefined
  return {
    stop: () => {
      stopping ??= (async () => {
        await relay.stop()
        await mq!.close()
        await closeDatabase()
      })()
      return stopping
    },
  }
}

/** The `anymq-outbox-relay` command. */
export async function main(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  let running: RelayProcess | undefined
  try {
    running = await startRelayProcess(argv)
  } catch (error) {
    console.error((error as Error).message)
    console.error('Run anymq-outbox-relay --help for the options.')
    process.exitCode = 2
    return
  }
  if (!running) return
  const stop = () => {
    void running.stop().then(
      () => process.exit(0),
      (error: Error) => {
        console.error(error.message)
        process.exit(1)
      },
    )
  }
  process.once('SIGTERM', stop)
  process.once('SIGINT', stop)
}
