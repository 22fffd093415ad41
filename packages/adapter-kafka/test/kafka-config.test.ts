import { ConfigError, connect } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'
import { resolveSettings } from '../src/kafka-config.js'

describe('kafka settings', () => {
  it('reads every bootstrap broker of a multi-host URL and fills defaults', () => {
    const settings = resolveSettings(new URL('kafka://a:9092'), ['a:9092', 'b:9093', 'c'], {})
    expect(settings.brokers).toEqual(['a:9092', 'b:9093', 'c:9092'])
    expect(settings).toMatchObject({ clientId: 'anymq', partitions: 3, replicationFactor: -1, sessionTimeoutMs: 10_000, ssl: false, sasl: undefined })
  })

  it('takes SASL credentials from the URL, and broker options over URL options', () => {
    const settings = resolveSettings(new URL('kafka://alice:s3cr%40t@a:9092?saslMechanism=scram-sha-512&partitions=6&ssl=true'), undefined, {
      partitions: 12,
    })
    expect(settings.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'alice', password: 's3cr@t' })
    expect(settings.partitions).toBe(12)
    expect(settings.ssl).toBe(true)
  })

  it('reports every bad option at once, naming each', () => {
    const error = (() => {
      try {
        resolveSettings(new URL('kafka://a:9092?partitions=0&colour=red'), undefined, { sessionTimeoutMs: 'soon', retries: 3 })
      } catch (caught) {
        return caught
      }
    })()
    expect(error).toBeInstanceOf(ConfigError)
    // URL parameters and broker options in one error: every problem at once.
    expect((error as ConfigError).problems.map((problem) => problem.field)).toEqual([
      'url ?partitions',
      'url ?colour',
      'broker.sessionTimeoutMs',
      'broker.retries',
    ])
    const second = (() => {
      try {
        resolveSettings(new URL('kafka://a:9092'), undefined, { sessionTimeoutMs: 'soon', retries: 3, sasl: { mechanism: 'md5' } })
      } catch (caught) {
        return caught
      }
    })()
    expect((second as ConfigError).problems.map((problem) => problem.field)).toEqual([
      'broker.sessionTimeoutMs',
      'broker.retries',
      'broker.sasl.mechanism',
      'broker.sasl.username',
      'broker.sasl.password',
    ])
  })

  it('fails to connect with a ConnectionError that never shows the password', async () => {
    const error = await connect('kafka://user:hunter2secret@127.0.0.1:1?connectionTimeoutMs=200', { adapter }).catch((caught: unknown) => caught)
    expect((error as { code?: string }).code).toBe('ERR_CONNECTION')
    expect(String((error as Error).message)).not.toContain('hunter2secret')
    expect(String((error as Error).stack)).not.toContain('hunter2secret')
  })
})
