import { describe, expect, it } from 'vitest'
import { capabilities } from '../src/rabbitmq-adapter.js'
import { resolveConfig } from '../src/rabbitmq-config.js'

describe('rabbitmq config', () => {
  it('lists every node of a multi-host URL, with the default port where none is given', () => {
    const config = resolveConfig(new URL('amqp://u:p@a:5673/vh'), {}, capabilities, ['a:5673', 'b', '[::1]:5674'])
    expect(config.nodes).toEqual([
      { hostname: 'a', port: 5673 },
      { hostname: 'b', port: 5673 },
      { hostname: '::1', port: 5674 },
    ])
    expect(config.connect).toMatchObject({ hostname: 'a', port: 5673, username: 'u', vhost: 'vh' })
  })

  it('has one node for a single-host URL', () => {
    expect(resolveConfig(new URL('amqps://h'), {}, capabilities).nodes).toEqual([{ hostname: 'h', port: 5671 }])
  })

  it("keeps millisecond timestamps unless told 'seconds', and names the allowed values of a wrong one", () => {
    expect(resolveConfig(new URL('amqp://h'), {}, capabilities).timestampPrecision).toBe('milliseconds')
    expect(resolveConfig(new URL('amqp://h'), { timestampPrecision: 'seconds' }, capabilities).timestampPrecision).toBe('seconds')
    expect(resolveConfig(new URL('amqp://h?timestampPrecision=seconds'), {}, capabilities).timestampPrecision).toBe('seconds')
    expect(() => resolveConfig(new URL('amqp://h'), { timestampPrecision: 'micro' }, capabilities)).toThrow(
      /timestampPrecision[\s\S]*milliseconds[\s\S]*seconds/,
    )
  })
})
