import { AnymqError } from '@anymq/core/spi'
import { describe, expect, it } from 'vitest'
import { readSettings } from '../src/nats-config.js'

function problemsOf(url: string, broker: Record<string, unknown> = {}): string[] {
  try {
    readSettings(new URL(url), undefined, broker)
  } catch (error) {
    expect(AnymqError.isInstance(error) && error.code).toBe('ERR_CONFIG')
    return (error as { problems: { field: string }[] }).problems.map((problem) => problem.field)
  }
  return []
}

const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'

describe('nats TLS settings', () => {
  it('requires TLS when any TLS setting is given, and passes the PEM on', () => {
    expect(readSettings(new URL('nats://127.0.0.1:4222'), undefined, {}).tls).toBeUndefined()
    expect(readSettings(new URL('nats://127.0.0.1:4222?tls=true'), undefined, {}).tls).toEqual({})
    expect(readSettings(new URL('nats://127.0.0.1:4222'), undefined, { tls: { ca: pem } }).tls).toEqual({ ca: pem })
  })

  it('refuses, before connecting, an unreadable ca, a cert without key, a tls that is not an object, and ?tls=false beside TLS settings', () => {
    expect(problemsOf('nats://127.0.0.1:4222?ca=/nonexistent/ca.pem')).toEqual(['url ?ca'])
    expect(problemsOf('nats://127.0.0.1:4222', { tls: { cert: pem } })).toEqual(['broker.tls.key'])
    expect(problemsOf('nats://127.0.0.1:4222', { tls: true })).toEqual(['broker.tls'])
    expect(problemsOf('nats://127.0.0.1:4222?tls=false', { tls: { ca: pem } })).toEqual(['url ?tls'])
  })
})
