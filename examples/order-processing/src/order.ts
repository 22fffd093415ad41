import { z } from 'zod'

export const OrderSchema = z.object({
  orderId: z.string(),
  customerId: z.string(),
  /** Position of this order among its customer's orders, to check per-customer order. */
  sequence: z.number().int().nonnegative(),
  sku: z.string(),
  quantity: z.number().int().positive(),
  createdAt: z.number(),
})
export type Order = z.infer<typeof OrderSchema>

export const PriceQuerySchema = z.object({ sku: z.string(), quantity: z.number().int().positive() })
export type PriceQuery = z.infer<typeof PriceQuerySchema>
export const PriceSchema = z.object({ sku: z.string(), total: z.number() })
export type Price = z.infer<typeof PriceSchema>

export interface ShippedEvent {
  orderId: string
  customerId: string
  total: number
}

/** A deterministic stream of orders: a few for discontinued products (poison), the rest ordinary. */
export function generateOrders(count: number, customers: number, poison: readonly string[]): Order[] {
  const sequences = new Map<string, number>()
  return Array.from({ length: count }, (_, index) => {
    const customerId = `customer-${(index * 7) % customers}`
    const sequence = sequences.get(customerId) ?? 0
    sequences.set(customerId, sequence + 1)
    const poisonIndex = index % Math.floor(count / poison.length)
    const sku = poisonIndex === 3 ? (poison[Math.floor(index / Math.floor(count / poison.length))] ?? 'SKU-1') : `SKU-${(index % 12) + 1}`
    return { orderId: `order-${String(index).padStart(5, '0')}`, customerId, sequence, sku, quantity: (index % 4) + 1, createdAt: Date.now() }
  })
}
