import { describe, expect, it } from 'vitest'
import { runOrderService } from '../src/order-service.js'

describe('example: outbox order service', () => {
  it('commits orders with their events, rolls back a bad one with its event, ships each order once', async () => {
    const lines: string[] = []
    const summary = await runOrderService({ log: (line) => lines.push(line) })
    expect(summary).toEqual({ ordersPlaced: 3, ordersRejected: 1, orderRows: 3, shipmentRows: 3, duplicatesSkipped: 1 })
    expect(lines.some((line) => line.includes('-4 rejected'))).toBe(true)
  })
})
