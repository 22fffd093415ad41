import type { Anymq, Logger } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { Collector, uniqueName } from './harness.js'
import { startTcpRelay, type TcpRelay } from './tcp-relay.js'

/** An adapter whose broker can be reached through a TCP relay (a client that dials only the URL it is given). */
export interface FrozenCloseTarget {
  /** Shown in the suite's title. */
  name: string
  /** The broker's URL; `undefined` when unset (the suite is skipped). */
  url: string | undefined
  /** Connects to `url` (the relay's) with `logger`. */
  connect(url: string, logger: Logger): Promise<Anymq>
  /** Longest `mq.close()` may take once the relay froze. */
  closeWithinMs: number
  /**
   * Where the relay points and how the URL goes through it, for a client that takes its endpoint from
   * elsewhere than the URL's host (`?endpoint=`). Default: the URL's host and port.
   */
  relay?: { target(url: string): URL; through(url: string, relay: URL): string }
  /** Also freeze while a handler runs, so that its ack is the call the broker leaves unanswered. */
  freezeInHandler?: boolean
}

/**
 * The relay of a client that dials the URL's `?endpoint=` (`http://host:port` or `host:port`) rather
 * than its host: the relay stands in for that endpoint, and `params` are set on the relayed URL.
 */
export function endpointParamRelay(params: Record<string, string> = {}): NonNullable<FrozenCloseTarget['relay']> {
  const endpointOf = (url: string) => {
    const endpoint = new URL(url).searchParams.get('endpoint')
    if (!endpoint) throw new Error(`the frozen-close case needs a URL with ?endpoint=, got ${url}`)
    return { endpoint, target: new URL(endpoint.includes('://') ? endpoint : `tcp://${endpoint}`) }
  }
  return {
    target: (url) => endpointOf(url).target,
    through: (url, relay) => {
      const { endpoint, target } = endpointOf(url)
      const relayed = new URL(url)
      relayed.searchParams.set('endpoint', endpoint.includes('://') ? `${target.protocol}//127.0.0.1:${relay.port}` : `127.0.0.1:${relay.port}`)
      for (const [name, value] of Object.entries(params)) relayed.searchParams.set(name, value)
      return relayed.toString()
    },
  }
}

/**
 * `mq.close()` with a consumer attached, while the broker keeps the connection and answers nothing
 * (frozen, or a network that drops packets, where no error ever comes): it returns within
 * `closeWithinMs` rather than waiting on the broker for good, and logs a warning that says so.
 */
export function describeFrozenClose(target: FrozenCloseTarget): void {
  describe.skipIf(!target.url)(`anymq: close while the broker does not answer (${target.name})`, () => {
    let relay: TcpRelay | undefined
    afterEach(async () => {
      await relay?.close()
      relay = undefined
    })

    const cases = target.freezeInHandler ? (['idle', 'in a handler'] as const) : (['idle'] as const)
    it.each(cases)('closes, a consumer attached, within its bound, and logs why (frozen %s)', { timeout: target.closeWithinMs + 30_000 }, async (when) => {
      const url = target.url as string
      relay = await startTcpRelay(target.relay ? target.relay.target(url) : new URL(url))
      const frozen = relay
      const warnings: string[] = []
      const logger: Logger = { debug() {}, info() {}, warn: (message) => warnings.push(message), error() {} }
      const mq = await target.connect(target.relay ? target.relay.through(url, frozen.url) : frozen.url.toString(), logger)
      const queue = mq.queue<string>(uniqueName('frozen-close'))
      const handled = new Collector<string>()
      let sent: Promise<unknown> = Promise.resolve()
      await queue.consume(async (message) => {
        // Frozen before the handler returns: its ack goes to a broker that no longer answers. Not before
        // the send's own answer came back through the relay, which the consumer may beat.
        if (message.body === 'freeze') {
          await sent
          frozen.freeze()
        }
        handled.handler(message)
      }).ready
      await queue.send('before')
      await handled.waitForCount(1, 10_000)
      if (when === 'idle') frozen.freeze()
      else {
        sent = queue.send('freeze')
        await sent
        await handled.waitForCount(2, 10_000)
      }
      const began = Date.now()
      const waitMs = target.closeWithinMs + 15_000
      const closed = await Promise.race([
        mq.close().then(() => 'closed'),
        new Promise((resolve) => setTimeout(() => resolve(`still closing after ${waitMs} ms`), waitMs)),
      ])
      expect(closed).toBe('closed')
      expect(Date.now() - began).toBeLessThan(target.closeWithinMs)
      expect(warnings.join('\n')).toMatch(/did not answer/)
    })
  })
}
