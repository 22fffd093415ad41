import { randomBytes } from 'node:crypto'
import { type Anymq, connect, type Subscription } from '@anymq/core'
import { generateOrders, type Order, OrderSchema, type Price, type PriceQuery, PriceQuerySchema, PriceSchema, type ShippedEvent } from './order.js'
import { ProgressBar } from './progress.js'
import { percentile } from './summary.js'

export interface DemoOptions {
  url: string
  orders?: number
  customers?: number
  workers?: number
  quiet?: boolean
  /** Delete the run's queues, topic and dead-letter queue at the end, where the adapter can (`admin.delete`); for tests on a shared broker. */
  cleanUp?: boolean
}

export interface DemoSummary {
  adapter: string
  sent: number
  processed: number
  duplicates: number
  retried: number
  deadLettered: number
  redriven: number
  invoicing: number
  notifications: number
  orderViolations: number
  latencyP50Ms: number
  latencyP99Ms: number
  elapsedMs: number
  deadLetters: Array<{ orderId: string; error: string; attempts: number }>
}

const poisonSkus = ['LEGACY-1', 'LEGACY-2', 'LEGACY-3']

/**
 * Orders flow through an ordered queue to competing workers; each worker prices its order by
 * request/reply and publishes a shipped event that fans out to invoicing and notifications. Orders
 * for discontinued products fail at pricing, are retried, and end in the dead-letter queue; after a
 * fix to the catalog one of them is redriven and goes through.
 */
export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const total = options.orders ?? 600
  const run = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`
  const names = { orders: `orders-${run}`, pricing: `pricing-${run}`, events: `order-events-${run}` }
  const catalog = new Map<string, number>(Array.from({ length: 12 }, (_, index) => [`SKU-${index + 1}`, 5 + index]))
  const connections: Anymq[] = []
  const open = async () => {
    const mq = await connect(options.url)
    connections.push(mq)
    return mq
  }
  const started = Date.now()
  try {
    const services = await open()
    const shop = await open()

    // Pricing service: answers price queries; discontinued products are unknown to it.
    await services.responder<PriceQuery, Price>(names.pricing, { requestSchema: PriceQuerySchema, responseSchema: PriceSchema }).serve(
      (query) => {
        const unit = catalog.get(query.sku)
        if (unit === undefined) throw new Error(`unknown sku ${query.sku} (discontinued)`)
        return { sku: query.sku, total: unit * query.quantity }
      },
      { concurrency: 16 },
    ).ready

    // Invoicing and notifications each get every shipped event.
    const invoiced = new Set<string>()
    const notified = new Set<string>()
    const events = services.topic<ShippedEvent>(names.events)
    await Promise.all([
      events.subscribe('invoicing', (message) => void invoiced.add(message.body.orderId), { concurrency: 8 }).ready,
      events.subscribe('notifications', (message) => void notified.add(message.body.orderId), { concurrency: 8 }).ready,
    ])

    // Competing workers.
    const processed = new Set<string>()
    let duplicates = 0
    let orderViolations = 0
    const lastSequence = new Map<string, number>()
    let checkingOrder = true
    const latencies: number[] = []
    const workerSubscriptions: Subscription[] = []
    for (let worker = 0; worker < (options.workers ?? 3); worker++) {
      const mq = await open()
      const pricing = mq.requester<PriceQuery, Price>(names.pricing, { requestSchema: PriceQuerySchema, responseSchema: PriceSchema })
      const shipped = mq.topic<ShippedEvent>(names.events)
      const orders = mq.queue<Order>(names.orders, {
        schema: OrderSchema,
        ordered: true,
        retry: { maxAttempts: 3, backoff: { type: 'exponential', initialMs: 50, maxMs: 400 } },
      })
      const subscription = orders.consume(
        async (message) => {
          const order = message.body
          if (message.attempt === 1 && checkingOrder) {
            // First deliveries of one customer must arrive in the order they were sent (redriven ones come later by design).
            const previous = lastSequence.get(order.customerId) ?? -1
            if (order.sequence < previous) orderViolations++
            lastSequence.set(order.customerId, Math.max(previous, order.sequence))
          }
          if (message.attempt === 1 && order.sequence % 9 === 4) throw new Error('warehouse busy, try again')
          const price = await pricing.request({ sku: order.sku, quantity: order.quantity }, { timeoutMs: 10_000 })
          await shipped.publish({ orderId: order.orderId, customerId: order.customerId, total: price.total }, { key: order.customerId })
          if (processed.has(order.orderId)) duplicates++
          else {
            processed.add(order.orderId)
            latencies.push(Date.now() - order.createdAt)
          }
        },
        { concurrency: 8 },
      )
      workerSubscriptions.push(subscription)
      await subscription.ready
    }

    const orders = shop.queue<Order>(names.orders, { schema: OrderSchema, ordered: true })
    const dead = orders.deadLetters()
    const deadCount = () => workerSubscriptions.reduce((sum, subscription) => sum + subscription.counts.deadLettered, 0)
    const generated = generateOrders(total, options.customers ?? 40, poisonSkus)
    const progress = options.quiet ? undefined : new ProgressBar('orders', total)
    for (let start = 0; start < generated.length; start += 50) {
      const batch = generated.slice(start, start + 50).map((order) => ({ ...order, createdAt: Date.now() }))
      await orders.sendBatch(batch, (order) => ({ key: order.customerId, id: order.orderId }))
    }
    await until(
      () => processed.size + deadCount() >= total && invoiced.size >= processed.size && notified.size >= processed.size,
      60_000,
      () => progress?.update(processed.size + deadCount(), `processed ${processed.size}, dead-lettered ${deadCount()}`),
    )
    progress?.update(processed.size + deadCount(), `processed ${processed.size}, dead-lettered ${deadCount()}`)
    progress?.done()

    // Fix the catalog for one discontinued product, then send the dead letters back.
    checkingOrder = false
    const letters = await dead.peek(20)
    const fixed = letters[0]?.body?.sku
    if (fixed) catalog.set(fixed, 99)
    const deadBefore = letters.length
    const redriven = letters.filter((letter) => letter.body?.sku === fixed).length
    const processedBefore = processed.size
    await dead.redrive()
    await until(
      async () =>
        processed.size >= processedBefore + redriven &&
        (await dead.peek(20)).length === deadBefore - redriven &&
        invoiced.size >= processed.size &&
        notified.size >= processed.size,
      60_000,
    )
    const remaining = await dead.peek(20)
    return {
      adapter: services.adapter,
      sent: total,
      processed: processed.size,
      duplicates,
      retried: workerSubscriptions.reduce((sum, subscription) => sum + subscription.counts.retried, 0),
      deadLettered: remaining.length,
      redriven,
      invoicing: invoiced.size,
      notifications: notified.size,
      orderViolations,
      latencyP50Ms: percentile(latencies, 0.5),
      latencyP99Ms: percentile(latencies, 0.99),
      elapsedMs: Date.now() - started,
      deadLetters: remaining.map((letter) => ({ orderId: letter.id, error: letter.error.message, attempts: letter.attempts })),
    }
  } finally {
    await Promise.allSettled(connections.map((mq) => mq.close()))
    // After the close: consumers release their leases and checkpoints on what is about to go.
    if (options.cleanUp) await removeDestinations(options.url, names)
  }
}

/** Best effort: an adapter without `admin.delete` (or a topic provider with nothing to delete) keeps them. */
async function removeDestinations(url: string, names: { orders: string; pricing: string; events: string }): Promise<void> {
  const mq = await connect(url)
  try {
    const orders = mq.queue(names.orders)
    await Promise.allSettled([orders.delete(), mq.queue(orders.deadLetters().name).delete(), mq.queue(names.pricing).delete(), mq.topic(names.events).delete()])
  } finally {
    await mq.close()
  }
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, onTick?: () => void): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`the demo did not settle within ${timeoutMs} ms`)
    onTick?.()
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
