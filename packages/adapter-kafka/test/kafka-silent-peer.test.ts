import { createServer, type Socket } from 'node:net'
import { AbortedError, ConnectionError, connect } from '@anymq/core'
import { describe, expect, it, vi } from 'vitest'
import { adapter } from '../src/index.js'

describe('kafka: a peer that accepts the connection and never answers', () => {
  for (const driver of ['platformatic', 'kafkajs']) {
    it(`fails connect() with a retryable ConnectionError within connectionTimeoutMs + requestTimeoutMs (${driver})`, async () => {
      const sockets = new Set<Socket>()
      const server = createServer((socket) => {
        sockets.add(socket)
        socket.on('error', () => {})
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const { port } = server.address() as { port: number }
      try {
        const started = Date.now()
        const error = await connect(`kafka://127.0.0.1:${port}?driver=${driver}&connectionTimeoutMs=300&requestTimeoutMs=700`, { adapter }).catch(
          (caught: unknown) => caught,
        )
        expect(error).toBeInstanceOf(ConnectionError)
        expect((error as ConnectionError).isRetryable).toBe(true)
        expect((error as Error).message).toMatch(/no answer (within 1000 ms|from a Kafka broker)/)
        expect(Date.now() - started).toBeLessThan(5_000)
      } finally {
        for (const socket of sockets) socket.destroy()
        await new Promise((resolve) => server.close(resolve))
      }
    })

    it(`drops its sockets at once when the connect signal fires (${driver})`, async () => {
      const sockets = new Set<Socket>()
      const server = createServer((socket) => {
        sockets.add(socket)
        socket.resume()
        socket.on('error', () => {})
        socket.on('close', () => sockets.delete(socket))
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const { port } = server.address() as { port: number }
      try {
        const error = await connect(`kafka://127.0.0.1:${port}?driver=${driver}&connectionTimeoutMs=30000&requestTimeoutMs=30000`, {
          adapter,
          signal: AbortSignal.timeout(300),
        }).catch((caught: unknown) => caught)
        expect(error).toBeInstanceOf(AbortedError)
        // Before, they stayed open (and held the process) until the 60 s deadline.
        await vi.waitFor(() => expect(sockets.size).toBe(0), { timeout: 5_000 })
      } finally {
        for (const socket of sockets) socket.destroy()
        await new Promise((resolve) => server.close(resolve))
      }
    })
  }
})
