import { brokerUrl } from '@anymq/conformance'
import { connect, type Logger } from '@anymq/core'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { adapter } from '../src/index.js'
import { drivers } from './drivers.js'

const url = brokerUrl('ANYMQ_REDIS_URL')

// ioredis writes its warnings to console.warn (routed to the logger); the node-redis driver warns on the logger itself.
describe.skipIf(!url).each(drivers)(
  'redis: client warnings go through the logger, %s driver (ANYMQ_REDIS_URL unset: run scripts/brokers.sh up redis)',
  (driver) => {
    afterEach(() => {
      vi.restoreAllMocks()
    })

    it('reports "a password was supplied" on the logger, not on stderr, and leaves console.warn as it was', async () => {
      const consoleWarn = vi.spyOn(console, 'warn').mockImplementation(() => {})
      const before = console.warn
      const warnings: string[] = []
      const logger: Logger = { debug() {}, info() {}, warn: (message) => warnings.push(message), error: (message) => warnings.push(message) }
      // The suite's Redis has no password: ioredis warns that one was supplied, and connects anyway.
      const withPassword = new URL(url as string)
      withPassword.searchParams.set('driver', driver)
      withPassword.password = 'not-needed-secret'
      const mq = await connect(withPassword.toString(), { adapter, logger })
      try {
        await mq.queue('console-warnings').send('x')
        // Other console.warn calls still reach the console while a client is connecting or connected.
        console.warn('[WARN] from someone else')
      } finally {
        await mq.close()
      }
      expect(warnings.some((warning) => /does not require a password/.test(warning))).toBe(true)
      expect(warnings.join('\n')).not.toContain('not-needed-secret')
      const printed = consoleWarn.mock.calls.map((call) => String(call[0]))
      expect(printed.filter((line) => /password/.test(line))).toEqual([])
      expect(printed).toContain('[WARN] from someone else')
      expect(console.warn).toBe(before)
    })
  },
)
