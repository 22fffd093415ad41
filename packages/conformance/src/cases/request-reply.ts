import { AbortedError, RemoteError, RequestTimeoutError } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { type Harness, uniqueName } from '../harness.js'

export function requestReplyCases(h: Harness): void {
  describe('request/reply', () => {
    it('answers a request with its reply', async () => {
      const [server, client] = [await h.connect(), await h.connect()]
      const name = uniqueName('rpc')
      await server.responder<{ sku: string }, { price: number }>(name).serve((query) => ({ price: query.sku.length * 10 })).ready
      const reply = await client.requester<{ sku: string }, { price: number }>(name).request({ sku: 'abcd' }, { timeoutMs: h.ms(10_000) })
      expect(reply).toEqual({ price: 40 })
    })

    it('matches 100 concurrent requests to their own replies across two responders', async () => {
      const [serverA, serverB, client] = [await h.connect(), await h.connect(), await h.connect()]
      const name = uniqueName('rpc-many')
      await Promise.all([
        serverA.responder<number, number>(name).serve(async (n) => n * 2, { concurrency: 8 }).ready,
        serverB.responder<number, number>(name).serve(async (n) => n * 2, { concurrency: 8 }).ready,
      ])
      const requester = client.requester<number, number>(name)
      const replies = await Promise.all(Array.from({ length: 100 }, (_, index) => requester.request(index, { timeoutMs: h.ms(20_000) })))
      expect(replies).toEqual(Array.from({ length: 100 }, (_, index) => index * 2))
    })

    it(
      'answers a storm of concurrent requests, one requester per call, against three responders',
      async () => {
        const servers = [await h.connect(), await h.connect(), await h.connect()]
        const client = await h.connect()
        const name = uniqueName('rpc-storm')
        await Promise.all(servers.map((server) => server.responder<number, number>(name).serve(async (n) => n * 3, { concurrency: 16 }).ready))
        // 1 000 by default; an emulator with a low request rate scales it down with the suite's volume.
        const count = Math.min(1000, h.target.volume ?? 1000)
        const started = Date.now()
        // As the README writes it: a requester made inline for every call.
        const replies = await Promise.all(
          Array.from({ length: count }, (_, index) => client.requester<number, number>(name).request(index, { timeoutMs: h.ms(120_000) })),
        )
        const wallMs = Date.now() - started
        expect(replies).toEqual(Array.from({ length: count }, (_, index) => index * 3))
        console.info(`[conformance] ${h.target.name}: request storm: ${replies.length}/${count} replies in ${wallMs} ms`)
        // And a request nobody answers still rejects at its own deadline, on the same shared inbox.
        const silentStarted = Date.now()
        const error = await client
          .requester(uniqueName('rpc-storm-silent'))
          .request(0, { timeoutMs: 500 })
          .catch((caught: unknown) => caught)
        expect(error).toBeInstanceOf(RequestTimeoutError)
        expect(Date.now() - silentStarted).toBeGreaterThanOrEqual(490)
        // An emulator answering a few dozen requests a second needs minutes on a loaded machine.
      },
      h.ms(180_000),
    )

    it('rejects with RequestTimeoutError when nobody answers in time', async () => {
      const client = await h.connect()
      const started = Date.now()
      const error = await client
        .requester(uniqueName('rpc-silent'))
        .request({ q: 1 }, { timeoutMs: 300 })
        .catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(RequestTimeoutError)
      expect((error as RequestTimeoutError).code).toBe('ERR_REQUEST_TIMEOUT')
      expect(Date.now() - started).toBeGreaterThanOrEqual(290)
    })

    it('gives the requester a RemoteError when the responder throws', async () => {
      const [server, client] = [await h.connect(), await h.connect()]
      const name = uniqueName('rpc-error')
      await server.responder<string, string>(name).serve(() => {
        throw new TypeError('unknown sku')
      }).ready
      const error = await client
        .requester<string, string>(name)
        .request('x', { timeoutMs: h.ms(10_000) })
        .catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(RemoteError)
      expect((error as Error).message).toContain('TypeError: unknown sku')
    })

    it('rejects with AbortedError when the signal fires', async () => {
      const client = await h.connect()
      const controller = new AbortController()
      const pending = client.requester(uniqueName('rpc-abort')).request({}, { timeoutMs: 10_000, signal: controller.signal })
      setTimeout(() => controller.abort(), 50)
      await expect(pending).rejects.toBeInstanceOf(AbortedError)
    })
  })
}
