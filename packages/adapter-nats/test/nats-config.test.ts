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

describe('nats credentials', () => {
  const credentialsOf = (url: string, broker: Record<string, unknown> = {}) => {
    const { user, pass, token } = readSettings(new URL(url), undefined, broker)
    return { user, pass, token }
  }

  it('reads nats://user@host with the password as broker.pass as that user, not as a token', () => {
    expect(credentialsOf('nats://orders-svc@nats.internal:4222', { pass: 'secret' })).toEqual({ user: 'orders-svc', pass: 'secret', token: undefined })
  })

  it('reads nats://token@host alone as a token and nats://user:password@host as a user', () => {
    expect(credentialsOf('nats://the-token@127.0.0.1:4222')).toEqual({ user: undefined, pass: undefined, token: 'the-token' })
    expect(credentialsOf('nats://app:pw@127.0.0.1:4222')).toEqual({ user: 'app', pass: 'pw', token: undefined })
    expect(credentialsOf('nats://127.0.0.1:4222', { user: 'app', pass: 'pw' })).toEqual({ user: 'app', pass: 'pw', token: undefined })
  })
})
