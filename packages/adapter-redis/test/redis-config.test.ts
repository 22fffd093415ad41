import { ConfigError } from '@anymq/core'
import { describe, expect, it } from 'vitest'
import { ioredisOptions } from '../src/ioredis-driver.js'
import { readSettings } from '../src/redis-config.js'

describe('redis settings', () => {
  it('reads redis+sentinel:// with every Sentinel, the master name and the database', () => {
    const url = new URL('redis+sentinel://:pw@a:26379/mymaster/2?waitReplicas=1')
    const settings = readSettings(url, {}, ['a:26379', 'b:26380', 'c'])
    expect(settings.sentinels).toEqual([
      { host: 'a', port: 26379 },
      { host: 'b', port: 26380 },
      { host: 'c', port: 26379 },
    ])
    expect(settings).toMatchObject({ masterName: 'mymaster', db: 2, waitReplicas: 1, waitTimeoutMs: 5_000, password: 'pw' })
    const options = ioredisOptions(settings, 'commands')
    expect(options).toMatchObject({ name: 'mymaster', role: 'master', sentinels: settings.sentinels, db: 2 })
    expect(options.host).toBeUndefined()
    expect(options.reconnectOnError?.(new Error("READONLY You can't write against a read only replica."))).toBe(2)
    expect(options.reconnectOnError?.(new Error('WRONGTYPE'))).toBe(false)
  })

  it('needs the master name, and keeps plain redis:// as it was', () => {
    expect(() => readSettings(new URL('redis+sentinel://a:26379'), {})).toThrow(ConfigError)
    const plain = readSettings(new URL('redis://h:6380/1'), {})
    expect(plain).toMatchObject({ host: 'h', port: 6380, db: 1, sentinels: undefined, waitReplicas: 0 })
    expect(ioredisOptions(plain, 'commands')).toMatchObject({ host: 'h', port: 6380 })
  })

  it('writes the packed entry layout by default, the layout of one field per property with ?wireLayout=fields, and refuses any other', () => {
    expect(readSettings(new URL('redis://h'), {}).wireLayout).toBe('packed')
    expect(readSettings(new URL('redis://h?wireLayout=fields'), {}).wireLayout).toBe('fields')
    const unknown = () => readSettings(new URL('redis://h?wireLayout=compact'), {})
    expect(unknown).toThrow(ConfigError)
    expect(unknown).toThrow(/wireLayout.*packed.*fields/s)
  })

  it('picks the client library from ?driver= or broker.driver, node-redis by default, and refuses any other', () => {
    expect(readSettings(new URL('redis://h'), {}).driver).toBe('node-redis')
    expect(readSettings(new URL('redis://h?driver=ioredis'), {}).driver).toBe('ioredis')
    expect(readSettings(new URL('redis://h?driver=ioredis'), { driver: 'node-redis' }).driver).toBe('node-redis')
    const fromUrl = () => readSettings(new URL('redis://h?driver=jedis'), {})
    expect(fromUrl).toThrow(ConfigError)
    expect(fromUrl).toThrow(/driver.*node-redis.*ioredis/s)
    expect(() => readSettings(new URL('redis://h'), { driver: 'redis-om' })).toThrow(/broker\.driver/)
  })
})
