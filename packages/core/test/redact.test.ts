import { describe, expect, it } from 'vitest'
import { AnymqError, ConnectionError } from '../src/errors.js'
import { redactText, redactUrl, registerSecret } from '../src/redact.js'

describe('redaction', () => {
  it('hides URL passwords and secret query parameters', () => {
    expect(redactUrl('amqp://guest:guest@127.0.0.1:5672/vhost')).toBe('amqp://guest:***@127.0.0.1:5672/vhost')
    expect(redactUrl('sqs://us-east-1?endpoint=http://x&secretAccessKey=abc&sessionToken=def')).toBe(
      'sqs://us-east-1?endpoint=http%3A%2F%2Fx&secretAccessKey=***&sessionToken=***',
    )
  })

  it('hides passwords in free text and registered secrets echoed by clients', () => {
    registerSecret('topsecret-value')
    expect(redactText('connect redis://default:p%40ss@host failed')).toBe('connect redis://default:***@host failed')
    expect(redactText('ERR AUTH topsecret-value rejected')).toBe('ERR AUTH *** rejected')
    expect(redactText('{"password":"abc"}')).toBe('{"password":"***"}')
    expect(redactText('a query ?password=abc')).toBe('a query ?password=***')
  })

  it("leaves core's own label of a URL parameter readable (url ?password: unknown parameter)", () => {
    expect(redactText('[anymq] [core] url ?password: unknown parameter; allowed: a, b')).toBe('[anymq] [core] url ?password: unknown parameter; allowed: a, b')
  })

  it('redacts error messages and their causes on construction', () => {
    registerSecret('cause-secret-1')
    const error = new ConnectionError('lost amqp://u:pw1234@h', { adapter: 'rabbitmq', cause: new Error('socket said cause-secret-1') })
    expect(error.message).toBe('[anymq] [rabbitmq] lost amqp://u:***@h')
    expect(String((error.cause as Error).message)).toBe('socket said ***')
    expect(AnymqError.isInstance(error)).toBe(true)
    expect(error.isRetryable).toBe(true)
  })
})
