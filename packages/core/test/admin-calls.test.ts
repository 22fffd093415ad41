import { describe, expect, it } from 'vitest'
import { adapter as memory } from '../../adapter-memory/src/index.js'
import { orderSchema } from '../../conformance/src/index.js'
import { ConfigError, connect, SerializationError, Unrecoverable, UnsupportedFeatureError, ValidationError } from '../src/index.js'

describe('admin calls in core', () => {
  it('keeps a dead letter whose edited body the codec cannot encode, and says why', async () => {
    const mq = await connect('memory://core-admin-edit', { adapter: memory })
    const queue = mq.queue<unknown>('edits', { retry: false })
    const { id } = await queue.send({ n: 1 })
    const failing = queue.consume(() => {
      throw new Unrecoverable('refused')
    })
    while ((await queue.deadLetters().peek(1)).length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
    await failing.close()
    await expect(queue.deadLetters().editAndRedrive(id, { body: undefined })).rejects.toBeInstanceOf(SerializationError)
    await expect(queue.deadLetters().editAndRedrive(id, { headers: { n: 1 as unknown as string } })).rejects.toBeInstanceOf(ConfigError)
    expect((await queue.deadLetters().peek(5)).map((letter) => letter.id)).toEqual([id])
    await mq.close()
  })

  it("checks an edited body against the queue's schema, as send() does, and keeps the dead letter when it fails", async () => {
    const mq = await connect('memory://core-admin-edit-schema', { adapter: memory })
    const queue = mq.queue('orders-edit', { retry: false, schema: orderSchema })
    const { id } = await queue.send({ orderId: 'o-1', amount: 5 })
    const failing = queue.consume(() => {
      throw new Unrecoverable('refused')
    })
    while ((await queue.deadLetters().peek(1)).length === 0) await new Promise((resolve) => setTimeout(resolve, 10))
    await failing.close()
    const edited = { orderId: 'o-1', amount: 'five' } as unknown as { orderId: string; amount: number }
    await expect(queue.deadLetters().editAndRedrive(id, { body: edited })).rejects.toBeInstanceOf(ValidationError)
    expect((await queue.deadLetters().peek(5)).map((letter) => letter.id)).toEqual([id])
    await expect(queue.deadLetters().editAndRedrive(id, { body: { orderId: 'o-1', amount: 6 } })).resolves.toBe(true)
    await mq.close()
  })

  it('refuses an admin call the adapter does not declare, naming the adapter, the call and what to do instead', async () => {
    const withoutAdmin = { ...memory, capabilities: { ...memory.capabilities, admin: undefined } }
    const mq = await connect('memory://core-admin-none', {
      adapter: {
        ...withoutAdmin,
        connect: async (url, context) => Object.assign(await memory.connect(url, context), { capabilities: withoutAdmin.capabilities }),
      },
    })
    const error = await mq
      .queue('orders')
      .stats()
      .catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(UnsupportedFeatureError)
    expect((error as Error).message).toBe("[anymq] [memory] stats() is not supported by the memory adapter; use the broker's own console or CLI for depths")
    await expect(mq.list()).rejects.toBeInstanceOf(UnsupportedFeatureError)
    await mq.close()
  })
})
