import { AnymqError, redactText } from '@anymq/core/spi'
import { describe, expect, it } from 'vitest'
import { readSettings } from '../src/gcp-pubsub-config.js'

const url = new URL('gcp-pubsub://anymq-test?endpoint=127.0.0.1:1')
const privateKey = '-----BEGIN PRIVATE KEY-----\nConfigTestPrivateKeyBody0123456789\n-----END PRIVATE KEY-----\n'

function problemsOf(broker: Record<string, unknown>): string[] {
  try {
    readSettings(url, broker)
  } catch (error) {
    expect(AnymqError.isInstance(error) && error.code).toBe('ERR_CONFIG')
    return (error as { problems: { field: string }[] }).problems.map((problem) => problem.field)
  }
  return []
}

describe('pub/sub credentials option', () => {
  it('takes a service-account key object and registers its private key as a secret', () => {
    const credentials = { type: 'service_account', client_email: 'a@b.iam.gserviceaccount.com', private_key: privateKey, private_key_id: 'k1' }
    expect(readSettings(url, { credentials }).credentials).toEqual(credentials)
    expect(redactText(`the client said ${privateKey}`)).toBe('the client said ***')
  })

  it('refuses, before anything connects, a key without client_email or PEM private_key, a non-object, and both credentials and keyFilename', () => {
    expect(problemsOf({ credentials: { private_key: 'not pem' } })).toEqual(['broker.credentials.client_email', 'broker.credentials.private_key'])
    expect(problemsOf({ credentials: 'a path?' })).toEqual(['broker.credentials'])
    expect(problemsOf({ credentials: { client_email: 'a@b', private_key: privateKey }, keyFilename: '/key.json' })).toEqual(['broker.credentials'])
  })
})
