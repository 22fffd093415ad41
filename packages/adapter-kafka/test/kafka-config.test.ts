import { ConfigError, connect } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'
import { createDriver, platformaticRunsOn } from '../src/kafka-adapter.js'
import { resolveSettings, resolveTopicOptions } from '../src/kafka-config.js'

const silent = { debug() {}, info() {}, warn() {}, error() {} }

function thrown(work: () => unknown): unknown {
  try {
    work()
  } catch (caught) {
    return caught
  }
  return undefined
}

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

  // Each driver where this Node runs it (the platformatic driver on an older Node: the ConfigError case below).
  for (const driver of ['kafkajs', 'platformatic'] as const) {
    it.skipIf(driver === 'platformatic' && !platformaticRunsOn(process.versions.node))(
      `fails to connect with a ConnectionError that never shows the password (${driver})`,
      async () => {
        const error = await connect(`kafka://user:hunter2secret@127.0.0.1:1?connectionTimeoutMs=200&driver=${driver}`, { adapter }).catch(
          (caught: unknown) => caught,
        )
        expect((error as { code?: string }).code).toBe('ERR_CONNECTION')
        expect(String((error as Error).message)).not.toContain('hunter2secret')
        expect(String((error as Error).stack)).not.toContain('hunter2secret')
      },
    )
  }

  it('picks the driver from the URL or the broker options, and refuses compressions kafkajs does not ship', () => {
    expect(resolveSettings(new URL('kafka://a:9092'), undefined, {}).driver).toBe('platformatic')
    expect(resolveSettings(new URL('kafka://a:9092?driver=kafkajs'), undefined, {}).driver).toBe('kafkajs')
    expect(resolveSettings(new URL('kafka://a:9092?driver=kafkajs'), undefined, { driver: 'platformatic', compression: 'zstd' })).toMatchObject({
      driver: 'platformatic',
      compression: 'zstd',
    })
    const bad = thrown(() => resolveSettings(new URL('kafka://a:9092?driver=rdkafka'), undefined, {}))
    expect((bad as ConfigError).problems.map((problem) => problem.field)).toEqual(['url ?driver'])
    const lz4 = thrown(() => resolveSettings(new URL('kafka://a:9092?driver=kafkajs&compression=lz4'), undefined, {}))
    expect(lz4).toBeInstanceOf(ConfigError)
    expect((lz4 as ConfigError).problems).toEqual([{ field: 'broker.compression', message: 'kafkajs ships only gzip; use driver=platformatic for lz4' }])
    expect(resolveSettings(new URL('kafka://a:9092?driver=kafkajs&compression=gzip'), undefined, {}).compression).toBe('gzip')
  })

  it('leaves the content type header off JSON records unless told contentTypeHeader=always (URL or broker option); refuses other values', () => {
    expect(resolveSettings(new URL('kafka://a:9092'), undefined, {}).contentTypeHeader).toBe('unlessJson')
    expect(resolveSettings(new URL('kafka://a:9092?contentTypeHeader=always'), undefined, {}).contentTypeHeader).toBe('always')
    expect(resolveSettings(new URL('kafka://a:9092?contentTypeHeader=always'), undefined, { contentTypeHeader: 'unlessJson' }).contentTypeHeader).toBe(
      'unlessJson',
    )
    const fromUrl = thrown(() => resolveSettings(new URL('kafka://a:9092?contentTypeHeader=never'), undefined, {}))
    expect((fromUrl as ConfigError).problems.map((problem) => problem.field)).toEqual(['url ?contentTypeHeader'])
    const fromOptions = thrown(() => resolveSettings(new URL('kafka://a:9092'), undefined, { contentTypeHeader: true }))
    expect((fromOptions as ConfigError).problems.map((problem) => problem.field)).toEqual(['broker.contentTypeHeader'])
  })

  it('accepts the classic group protocol and refuses KIP-848 (groupProtocol=consumer) with the reason, from the URL or the broker options', () => {
    expect(resolveSettings(new URL('kafka://a:9092?groupProtocol=classic'), undefined, {}).groupProtocol).toBe('classic')
    expect(resolveSettings(new URL('kafka://a:9092'), undefined, {}).groupProtocol).toBe('classic')
    const fromUrl = thrown(() => resolveSettings(new URL('kafka://a:9092?groupProtocol=consumer'), undefined, {}))
    expect(fromUrl).toBeInstanceOf(ConfigError)
    expect((fromUrl as ConfigError).problems).toEqual([{ field: 'url ?groupProtocol', message: expect.stringContaining('KIP-848') }])
    expect((fromUrl as ConfigError).message).toContain("use 'classic'")
    const fromBroker = thrown(() => resolveSettings(new URL('kafka://a:9092'), undefined, { groupProtocol: 'consumer' }))
    expect((fromBroker as ConfigError).problems.map((problem) => problem.field)).toEqual(['broker.groupProtocol'])
    const unknown = thrown(() => resolveSettings(new URL('kafka://a:9092?groupProtocol=cooperative'), undefined, {}))
    expect((unknown as ConfigError).problems.map((problem) => problem.field)).toEqual(['url ?groupProtocol'])
    expect((unknown as ConfigError).message).toContain('classic')
  })

  it('on a Node too old for @platformatic/kafka, fails with a ConfigError naming the Node needed and the other driver', async () => {
    expect(['20.19.0', '22.21.9', '24.5.0'].map(platformaticRunsOn)).toEqual([false, false, false])
    expect(['22.22.0', '23.0.0', '24.6.0', '25.1.0'].map(platformaticRunsOn)).toEqual([true, true, true, true])
    const settings = resolveSettings(new URL('kafka://127.0.0.1:1'), undefined, {})
    const error = await createDriver(settings, silent, '20.19.0').catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).problems[0]?.field).toBe('broker.driver')
    expect(String((error as Error).message)).toMatch(/Node >= 22\.22\.0.*this is Node 20\.19\.0.*driver=kafkajs/)
    // The kafkajs driver loads on any Node.
    const kafkajs = await createDriver({ ...settings, driver: 'kafkajs' }, silent, '20.19.0')
    await kafkajs.close()
  })

  it('validates partitions and replicationFactor per queue or subscription, every problem at once', () => {
    const defaults = { partitions: 3, replicationFactor: -1 }
    expect(resolveTopicOptions({}, defaults, "queue('q')")).toEqual(defaults)
    expect(resolveTopicOptions({ partitions: 12, replicationFactor: 3 }, defaults, "queue('q')")).toEqual({ partitions: 12, replicationFactor: 3 })
    const error = thrown(() => resolveTopicOptions({ partitions: 0, replicationFactor: 0, retention: '7d' }, defaults, "queue('q')"))
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).problems.map((problem) => problem.field)).toEqual([
      "queue('q').broker.retention",
      "queue('q').broker.partitions",
      "queue('q').broker.replicationFactor",
    ])
  })
})
