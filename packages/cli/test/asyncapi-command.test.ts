import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { anymq } from './run-cli.js'

const fixture = fileURLToPath(new URL('./fixtures/shop-declarations.mjs', import.meta.url))

describe('anymq asyncapi', () => {
  it("prints the AsyncAPI 3.0 document of a module's declarations", async () => {
    const { code, stdout, stderr } = await anymq('asyncapi', fixture, '--title', 'Shop', '--version', '2.0.0')
    expect(stderr).toBe('')
    expect(code).toBe(0)
    const document = JSON.parse(stdout)
    expect(document.asyncapi).toBe('3.0.0')
    expect(document.info).toEqual({ title: 'Shop', version: '2.0.0' })
    expect(document.servers.broker.protocol).toBe('memory')
    expect(document.channels['shop-orders'].messages.message.payload).toEqual({
      type: 'object',
      properties: { orderId: { type: 'string' } },
      required: ['orderId'],
    })
    expect(Object.keys(document.operations).sort()).toEqual([
      'publish.shop-events',
      'receive.shop-events.audit',
      'receive.shop-orders',
      'send.shop-orders',
      'serve.shop-pricing',
    ])
  })

  it('says what is wrong when the module exports no declaring function', async () => {
    const { code, stderr } = await anymq('asyncapi', fixture, '--export', 'nothing')
    expect(code).toBe(2)
    expect(stderr).toContain("exports no function 'nothing'")
  })
})
