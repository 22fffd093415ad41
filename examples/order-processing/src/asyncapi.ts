import type { Anymq } from '@anymq/core'
import { type Order, OrderSchema, type Price, type PriceQuery, PriceQuerySchema, PriceSchema, type ShippedEvent } from './order.js'

/**
 * The demo's messaging as `anymq asyncapi` describes it: the orders queue and its workers, pricing by
 * request/reply, shipped events fanned out to invoicing and notifications. The handlers do nothing:
 * only what is declared matters here (run-demo.ts is the real thing, under run-unique names).
 *
 *   pnpm asyncapi:demo    # tsx packages/cli/src/anymq.ts asyncapi examples/order-processing/src/asyncapi.ts
 */
export async function declare(mq: Anymq): Promise<void> {
  await mq.responder<PriceQuery, Price>('pricing', { requestSchema: PriceQuerySchema, responseSchema: PriceSchema }).serve(() => ({ sku: '', total: 0 })).ready
  mq.requester<PriceQuery, Price>('pricing', { requestSchema: PriceQuerySchema, responseSchema: PriceSchema })
  const events = mq.topic<ShippedEvent>('order-events')
  await events.subscribe('invoicing', () => {}).ready
  await events.subscribe('notifications', () => {}).ready
  await mq.queue<Order>('orders', { schema: OrderSchema, retry: { maxAttempts: 3 } }).consume(() => {}).ready
}
