import { AbortedError, type Anymq, ConnectionError } from '@anymq/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { uniqueName } from './harness.js'
import { type SilentServer, startSilentServer } from './silent-server.js'

/** An adapter's connect, against a server that never answers and against its broker. */
export interface ConnectSignalTarget {
  /** Shown in the suite's title. */
  name: string
  /** Connects to the server listening on `port` on 127.0.0.1, which accepts and never answers. */
  connectSilent(port: number, signal?: AbortSignal): Promise<Anymq>
  /** Connects to the broker under test; `undefined` when its URL is unset (that case is skipped). */
  connect: ((signal: AbortSignal) => Promise<Anymq>) | undefined
  /** The never-answering server, when plain TCP is not what the client waits on (default: {@link startSilentServer}). */
  silentServer?: () => Promise<SilentServer>
  /**
   * Also check that `connectSilent` without a signal gives up by itself, with a retryable `ConnectionError`
   * whose message matches this, and leaves no socket open (for a connect deadline short enough to wait for).
   */
  deadlineMessage?: RegExp
}

/**
 * `connect(url, { signal })`: a signal that fires while the adapter dials rejects with `AbortedError`
 * and releases the adapter's sockets at once (not at its own timeout), and dials nothing else; a signal
 * that fires after connect resolved changes nothing.
 */
export function describeConnectSignal(target: ConnectSignalTarget): void {
  describe(`anymq: the connect signal (${target.name})`, () => {
    let silent: SilentServer
    beforeEach(async () => {
      silent = await (target.silentServer ?? startSilentServer)()
    })
    afterEach(() => silent.close())

    it('against a server that never answers, drops the socket at once and dials no other', async () => {
      const error = await target.connectSilent(silent.port, AbortSignal.timeout(300)).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(AbortedError)
      await expect.poll(() => silent.openSockets(), { timeout: 3000 }).toBe(0)
      expect(silent.accepted()).toBe(1)
    })

    if (target.deadlineMessage)
      it('without a signal, gives up by itself with a retryable ConnectionError and drops the socket', async () => {
        const error = await target.connectSilent(silent.port).catch((caught: unknown) => caught)
        expect(error).toBeInstanceOf(ConnectionError)
        expect((error as ConnectionError).isRetryable).toBe(true)
        expect((error as Error).message).toMatch(target.deadlineMessage as RegExp)
        await expect.poll(() => silent.openSockets(), { timeout: 3000 }).toBe(0)
      })

    it.skipIf(!target.connect)(`fired after connect resolved, leaves the connection be${target.connect ? '' : ' (the broker URL is unset)'}`, async () => {
      const controller = new AbortController()
      const mq = await (target.connect as (signal: AbortSignal) => Promise<Anymq>)(controller.signal)
      const states: string[] = []
      mq.onConnectionState((event) => states.push(event.state))
      try {
        controller.abort()
        await new Promise((resolve) => setTimeout(resolve, 300))
        const queue = mq.queue<string>(uniqueName('after-abort'))
        await queue.send('still connected')
        expect(states).toEqual([])
        expect(mq.health().ready).toBe(true)
        await queue.delete()
      } finally {
        await mq.close()
      }
    })
  })
}
