import { connect } from '@anymq/core'
import { Parser } from '@asyncapi/parser'
import { describe, expect, it } from 'vitest'
import { declare } from '../src/asyncapi.js'

describe("the demo's AsyncAPI document", () => {
  it('validates with the official AsyncAPI parser and carries the order schema', async () => {
    const mq = await connect('memory://asyncapi-demo')
    try {
      await declare(mq)
      const document = mq.asyncapi({ title: 'anymq order-processing demo', version: '1.0.0' })
      const { document: parsed, diagnostics } = await new Parser().parse(JSON.stringify(document))
      expect(diagnostics.filter((diagnostic) => diagnostic.severity === 0).map((diagnostic) => diagnostic.message)).toEqual([])
      expect(parsed?.operations().all().length).toBe(7)
      const orders = parsed?.channels().get('orders')
      expect(orders?.messages().all()[0]?.payload()?.required()).toEqual(['orderId', 'customerId', 'sequence', 'sku', 'quantity', 'createdAt'])
    } finally {
      await mq.close()
    }
  })
})
