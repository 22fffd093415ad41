import { execFile } from 'node:child_process'
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net'
import { inspect, promisify } from 'node:util'
import { everythingIn, secretForms } from '@anymq/conformance'
import { type Anymq, connect, type Logger } from '@anymq/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// Every broker's connect/send/consume/close over TLS with a password in the URL, plus the failure
// paths (a wrong password, the connection cut in the middle of sends), with everything captured:
// stdout, stderr, every logger call at every level with its context, and every error's message,
// stack, cause chain and util.inspect. Neither the password nor the wrong one may appear in any
// form (as given, URL-encoded, base64). The broker SIGKILLed in the middle of sends runs only under
// `pnpm test:secrets-kill` (ANYMQ_SWEEP_KILL=1): inside `pnpm test` it would pull the broker from
// under the other files running beside.
const password = process.env.ANYMQ_TLS_PASSWORD
const wrongPassword = 'Sweep-Wr0ng-pass'
const targets = [
  { name: 'rabbitmq', broker: 'rabbitmq', url: process.env.ANYMQ_RABBITMQ_TLS_URL },
  { name: 'redis', broker: 'redis', url: process.env.ANYMQ_REDIS_TLS_URL },
  // The Redis adapter's second client library (the default is node-redis).
  { name: 'redis-ioredis', broker: 'redis', url: process.env.ANYMQ_REDIS_TLS_URL && withQuery(process.env.ANYMQ_REDIS_TLS_URL, 'driver', 'ioredis') },
  { name: 'kafka', broker: 'kafka', url: process.env.ANYMQ_KAFKA_TLS_URL },
].filter((target) => target.url)
const killing = process.env.ANYMQ_SWEEP_KILL === '1' && process.env.ANYMQ_BROKERS_SCRIPT !== undefined

function withQuery(url: string, name: string, value: string): string {
  const copy = new URL(url)
  copy.searchParams.set(name, value)
  return copy.toString()
}

const captured: string[] = []
const capturingLogger: Logger = {
  debug: (message, context) => captured.push(message, inspect(context, { depth: 8 })),
  info: (message, context) => captured.push(message, inspect(context, { depth: 8 })),
  warn: (message, context) => captured.push(message, inspect(context, { depth: 8 })),
  error: (message, context) => captured.push(message, inspect(context, { depth: 8 })),
}
const originalWrites = { stdout: process.stdout.write.bind(process.stdout), stderr: process.stderr.write.bind(process.stderr) }
beforeAll(() => {
  for (const stream of ['stdout', 'stderr'] as const) {
    process[stream].write = ((chunk: unknown, ...rest: unknown[]) => {
      captured.push(String(chunk))
      return (originalWrites[stream] as (...args: unknown[]) => boolean)(chunk, ...rest)
    }) as typeof process.stdout.write
  }
})
afterAll(() => {
  process.stdout.write = originalWrites.stdout
  process.stderr.write = originalWrites.stderr
})

/** A TCP relay in front of the broker whose connections can be cut, as a network failure would. */
async function relay(to: { host: string; port: number }): Promise<{ port: number; cut(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    const upstream = tcpConnect(to.port, to.host)
    for (const side of [socket, upstream]) {
      sockets.add(side)
      side.on('close', () => sockets.delete(side))
      side.on('error', () => {})
    }
    socket.pipe(upstream).pipe(socket)
    socket.on('close', () => upstream.destroy())
    upstream.on('close', () => socket.destroy())
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address() as { port: number }
  const cut = () => {
    for (const socket of sockets) socket.destroy()
  }
  const close = () =>
    new Promise<void>((resolve) => {
      cut()
      server.close(() => resolve())
    })
  return { port: address.port, cut, close }
}

describe.skipIf(!password || targets.length === 0)(
  `secrets sweep${!password || targets.length === 0 ? ' (ANYMQ_*_TLS_URL unset: run scripts/brokers.sh up)' : ''}`,
  () => {
    it.each(targets)('$name: no password anywhere, on success or failure', async ({ name, url }) => {
      const errors: unknown[] = []
      const tlsUrl = new URL(url as string)
      const connections: Anymq[] = []
      const open = async (target: URL) => {
        const mq = await connect(target.toString(), { logger: capturingLogger })
        connections.push(mq)
        return mq
      }
      try {
        // 1. Everything works: send, consume, close.
        const mq = await open(tlsUrl)
        const queue = mq.queue<string>(`sweep-${name}-${Date.now().toString(36)}`)
        const got = new Promise<string>((resolve) => queue.consume((message) => resolve(message.body)))
        await queue.send('hello')
        expect(await got).toBe('hello')
        await mq.close()

        // 2. A wrong password.
        const wrong = new URL(tlsUrl)
        wrong.password = wrongPassword
        await open(wrong).then(
          () => errors.push(new Error(`${name} accepted a wrong password`)),
          (error: unknown) => errors.push(error),
        )

        // 3. The connection cut in the middle of sends (through a relay that keeps accepting, so the
        // adapter may reconnect); each send either resolves or rejects with an error we sweep.
        const relayed = await relay({ host: '127.0.0.1', port: Number(tlsUrl.port) })
        try {
          const through = new URL(tlsUrl)
          through.port = String(relayed.port)
          const cutMq = await open(through)
          const cutQueue = cutMq.queue<string>(`sweep-cut-${name}-${Date.now().toString(36)}`)
          const sends = Array.from({ length: 20 }, (_, index) => {
            if (index === 5) relayed.cut()
            return cutQueue.send(`m${index}`).catch((error: unknown) => errors.push(error))
          })
          await Promise.all(sends)
          await cutMq.close().catch((error: unknown) => errors.push(error))
        } finally {
          await relayed.close()
        }
      } finally {
        await Promise.all(connections.map((mq) => mq.close().catch((error: unknown) => errors.push(error))))
      }
      expect(errors.length, 'the wrong password must have failed').toBeGreaterThan(0)
      expectNoSecret(name, errors)
    })
  },
)

function expectNoSecret(name: string, errors: unknown[]): void {
  console.info(`secrets sweep ${name}: ${errors.length} errors and ${captured.length} captured writes and log lines swept`)
  const everything = [...captured, ...errors.map(everythingIn)].join('\n')
  for (const form of [...secretForms(password as string), ...secretForms(wrongPassword)]) {
    expect(everything.includes(form), `'${form}' was written or thrown`).toBe(false)
  }
}

describe.skipIf(!password || targets.length === 0 || !killing)('secrets sweep, broker SIGKILLed mid-send (run pnpm test:secrets-kill)', () => {
  it.each(targets)('$name: no password anywhere while the broker dies and comes back; every send confirmed or failed', async ({ name, broker, url }) => {
    const errors: unknown[] = []
    const mq = await connect(url as string, { logger: capturingLogger })
    try {
      const queue = mq.queue<string>(`sweep-kill-${name}-${Date.now().toString(36)}`)
      await queue.send('before')
      const restart = promisify(execFile)(process.env.ANYMQ_BROKERS_SCRIPT as string, ['restart', '--kill', broker], { timeout: 240_000 })
      let settled = 0
      const sends = Array.from({ length: 40 }, async (_, index) => {
        await new Promise((resolve) => setTimeout(resolve, index * 50))
        await queue.send(`m${index}`).catch((error: unknown) => errors.push(error))
        settled++
      })
      await Promise.all([...sends, restart])
      expect(settled).toBe(40)
      // After the restart the connection recovers and sends again.
      for (let tries = 0; ; tries++) {
        try {
          await queue.send('after')
          break
        } catch (error) {
          errors.push(error)
          if (tries > 60) throw error
          await new Promise((resolve) => setTimeout(resolve, 500))
        }
      }
    } finally {
      await mq.close().catch((error: unknown) => errors.push(error))
    }
    expectNoSecret(`${name} (killed)`, errors)
  })
})
