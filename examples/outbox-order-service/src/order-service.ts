import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, ValidationError } from '@anymq/core'
import { type Inbox, type Outbox, type PostgresQueryable, postgresInbox, postgresOutbox, type SqliteDatabase, sqliteInbox, sqliteOutbox } from '@anymq/outbox'
import Database from 'better-sqlite3'
import pg from 'pg'
import { z } from 'zod'

export const OrderPlaced = z.object({
  orderId: z.string().min(1),
  customer: z.string().min(1),
  total: z.number().positive(),
})
export type OrderPlaced = z.infer<typeof OrderPlaced>

/** The few database operations the service needs, the same on Postgres and SQLite. */
interface Database_<Tx> {
  outbox: Outbox<Tx>
  shippingInbox: Inbox<Tx>
  transaction<R>(work: (tx: Tx) => Promise<R>): Promise<R>
  insertOrder(tx: Tx, order: OrderPlaced): Promise<void>
  insertShipment(tx: Tx, orderId: string): Promise<void>
  /** Rows of this run (ids starting with `run`). */
  count(table: 'orders' | 'shipments', run: string): Promise<number>
  close(): Promise<void>
}

export interface Summary {
  ordersPlaced: number
  ordersRejected: number
  orderRows: number
  shipmentRows: number
  duplicatesSkipped: number
}

/**
 * Runs the order service: places orders (order row + OrderPlaced event in one transaction), relays
 * the events, ships each order once. `databaseUrl`: postgres://… or a SQLite file (default: a temp file).
 */
export async function runOrderService(options: { databaseUrl?: string; brokerUrl?: string; log?: (line: string) => void } = {}): Promise<Summary> {
  const log = options.log ?? console.log
  if (options.databaseUrl?.startsWith('postgres')) return serve(await openPostgres(options.databaseUrl), options.brokerUrl, log)
  return serve(openSqlite(options.databaseUrl), options.brokerUrl, log)
}

async function serve<Tx>(db: Database_<Tx>, brokerUrl: string | undefined, log: (line: string) => void): Promise<Summary> {
  const mq = await connect(brokerUrl ?? 'memory://orders')
  await db.outbox.migrate()
  const orderEvents = db.outbox.topic('order-events', { schema: OrderPlaced })

  // The consumer side: shipping applies each OrderPlaced once, in its own transaction with the inbox.
  const shipped = new Set<string>()
  const shipping = mq.topic<OrderPlaced>('order-events', { schema: OrderPlaced }).subscribe(
    'shipping',
    db.shippingInbox.handle(async (message, tx) => {
      await db.insertShipment(tx, message.body.orderId)
      shipped.add(message.body.orderId)
      log(`shipping: order ${message.body.orderId} for ${message.body.customer} shipped`)
    }),
  )
  await shipping.ready
  const relay = db.outbox.startRelay({ mq })

  // The producer side: an order and its event commit together, or neither does.
  async function placeOrder(order: OrderPlaced): Promise<string> {
    return db.transaction(async (tx) => {
      await db.insertOrder(tx, order)
      const { id } = await orderEvents.add(tx, order, { key: order.customer })
      return id
    })
  }

  const run = Date.now().toString(36) // order ids of this run, so the demo can run again on one database
  const orders: OrderPlaced[] = [
    { orderId: `${run}-1`, customer: 'ada', total: 42 },
    { orderId: `${run}-2`, customer: 'grace', total: 17.5 },
    { orderId: `${run}-3`, customer: 'ada', total: 8 },
  ]
  const eventIds: string[] = []
  for (const order of orders) {
    eventIds.push(await placeOrder(order))
    log(`orders: placed ${order.orderId}`)
  }
  let rejected = 0
  try {
    await placeOrder({ orderId: `${run}-4`, customer: 'linus', total: -1 })
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error
    rejected++
    log(`orders: ${run}-4 rejected, its order row rolled back with it (${error.message})`)
  }

  await waitFor(() => shipped.size === orders.length)
  // A redelivery, as a broker or a relay restart may cause: same message id, no second shipment.
  await mq.topic('order-events').publish(orders[0], { id: eventIds[0] })
  await waitFor(() => db.shippingInbox.counts.duplicates === 1)
  log(`shipping: a redelivered ${run}-1 event was recognised by the inbox and skipped`)

  const summary: Summary = {
    ordersPlaced: orders.length,
    ordersRejected: rejected,
    orderRows: await db.count('orders', run),
    shipmentRows: await db.count('shipments', run),
    duplicatesSkipped: db.shippingInbox.counts.duplicates,
  }
  await relay.stop()
  await mq.close()
  await db.close()
  return summary
}

async function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

async function openPostgres(url: string): Promise<Database_<PostgresQueryable>> {
  const pool = new pg.Pool({ connectionString: url })
  await pool.query('CREATE TABLE IF NOT EXISTS orders (id text PRIMARY KEY, customer text NOT NULL, total numeric NOT NULL)')
  await pool.query('CREATE TABLE IF NOT EXISTS shipments (order_id text PRIMARY KEY, shipped_at timestamptz NOT NULL DEFAULT now())')
  return {
    outbox: postgresOutbox({ pool }),
    shippingInbox: postgresInbox({ pool, consumer: 'shipping' }),
    async transaction(work) {
      const client = await pool.connect()
      try {
        await client.query('BEGIN')
        const result = await work(client)
        await client.query('COMMIT')
        return result
      } catch (error) {
        await client.query('ROLLBACK')
        throw error
      } finally {
        client.release()
      }
    },
    insertOrder: async (tx, order) => {
      await tx.query('INSERT INTO orders (id, customer, total) VALUES ($1, $2, $3)', [order.orderId, order.customer, order.total])
    },
    insertShipment: async (tx, orderId) => {
      await tx.query('INSERT INTO shipments (order_id) VALUES ($1)', [orderId])
    },
    count: async (table, run) =>
      Number((await pool.query(`SELECT count(*)::int AS n FROM ${table} WHERE ${table === 'orders' ? 'id' : 'order_id'} LIKE $1`, [`${run}-%`])).rows[0].n),
    close: () => pool.end(),
  }
}

function openSqlite(file = join(mkdtempSync(join(tmpdir(), 'orders-')), 'orders.db')): Database_<SqliteDatabase> {
  const open = () => {
    const db = new Database(file)
    db.pragma('journal_mode = WAL')
    db.pragma('busy_timeout = 5000')
    return db
  }
  // One connection for the service's writes, one for the relay, one for the shipping consumer.
  const app = open()
  const relay = open()
  const shipping = open()
  app.exec('CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, customer TEXT NOT NULL, total REAL NOT NULL)')
  app.exec("CREATE TABLE IF NOT EXISTS shipments (order_id TEXT PRIMARY KEY, shipped_at TEXT NOT NULL DEFAULT (datetime('now')))")
  const outbox = sqliteOutbox({ database: relay })
  let queue: Promise<unknown> = Promise.resolve()
  return {
    outbox,
    shippingInbox: sqliteInbox({ database: shipping, consumer: 'shipping' }),
    transaction(work) {
      // One transaction at a time on the service's connection.
      const next = queue.then(async () => {
        app.exec('BEGIN IMMEDIATE')
        try {
          const result = await work(app)
          app.exec('COMMIT')
          return result
        } catch (error) {
          if (app.inTransaction) app.exec('ROLLBACK')
          throw error
        }
      })
      queue = next.catch(() => {})
      return next
    },
    insertOrder: async (tx, order) => {
      tx.prepare('INSERT INTO orders (id, customer, total) VALUES (?, ?, ?)').run(order.orderId, order.customer, order.total)
    },
    insertShipment: async (tx, orderId) => {
      tx.prepare('INSERT INTO shipments (order_id) VALUES (?)').run(orderId)
    },
    count: async (table, run) =>
      (app.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${table === 'orders' ? 'id' : 'order_id'} LIKE ?`).get(`${run}-%`) as { n: number }).n,
    close: async () => {
      for (const db of [app, relay, shipping]) db.close()
    },
  }
}
