import { randomBytes } from 'node:crypto'
import { inspect } from 'node:util'
import { brokerUrl, Collector, uniqueName, waitUntil } from '@anymq/conformance'
import { AnymqError, ConnectionError, connect, type Logger } from '@anymq/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'
import { redisCli } from './broker.js'
import { drivers, withDriver } from './drivers.js'

const url = brokerUrl('ANYMQ_REDIS_URL')

/**
 * ioredis attaches the failed command to its errors, and for AUTH/HELLO that includes the password
 * (ioredis #1229). These tests use a real ACL user with a password in the URL and look for the
 * password everywhere an error or log line can carry it.
 */
describe.skipIf(!url).each(drivers)('redis never leaks the password, %s driver (ANYMQ_REDIS_URL unset: run scripts/brokers.sh up redis)', (driver) => {
  const adminUrl = url as string
  const user = `anymq-test-${randomBytes(4).toString('hex')}`
  const password = `pw-${randomBytes(12).toString('hex')}`
  const userUrl = (secret: string, query = '') => {
    const parsed = new URL(adminUrl)
    parsed.username = user
    parsed.password = secret
    return withDriver(`${parsed.toString().replace(/\/$/, '')}${query}`, driver)
  }
  const lines: string[] = []
  const logger: Logger = {
    debug: (message, context) => lines.push(`${message} ${inspect(context, { depth: 8 })}`),
    info: (message, context) => lines.push(`${message} ${inspect(context, { depth: 8 })}`),
    warn: (message, context) => lines.push(`${message} ${inspect(context, { depth: 8 })}`),
    error: (message, context) => lines.push(`${message} ${inspect(context, { depth: 8 })}`),
  }
  /** Everything an application could print about an error. */
  const visible = (error: unknown) =>
    [String(error), (error as Error).stack ?? '', inspect(error, { depth: 8, showHidden: true }), JSON.stringify(error)].join('\n')

  beforeAll(async () => {
    // Only anymq's default prefix is allowed; keys under `forbidden:` make commands fail with NOPERM.
    await redisCli(adminUrl, 'ACL', 'SETUSER', user, 'on', `>${password}`, '~anymq:*', '+@all')
  })
  afterAll(async () => {
    await redisCli(adminUrl, 'ACL', 'DELUSER', user)
  })

  it('connects with the password from the URL, and its errors and logs never contain it', async () => {
    const mq = await connect(userUrl(password), { adapter, logger })
    const queue = mq.queue<string>(uniqueName('acl'), { codec: 'text' })
    const seen = new Collector<string>()
    await queue.consume(seen.handler).ready
    await queue.send('hello')
    await seen.waitForCount(1, 10_000)
    expect(mq.url).not.toContain(password)
    await mq.close()
  })

  it('rejects a wrong password with a ConnectionError that does not contain it', async () => {
    const wrong = `${password}-wrong`
    const error = await connect(userUrl(wrong), { adapter, logger }).catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(ConnectionError)
    expect((error as Error).message).toMatch(/WRONGPASS|invalid username-password/)
    expect(visible(error)).not.toContain(wrong)
    expect(visible(error)).not.toContain(password)
  })

  it('reports a failing command without the password', async () => {
    const mq = await connect(userUrl(password, '?prefix=forbidden'), { adapter, logger })
    const error = await mq
      .queue('acl-denied')
      .send('x')
      .catch((caught: unknown) => caught)
    // An ACL refusal is a permission problem of the connection's user, like a wrong password: a
    // ConnectionError that says so and is not retried.
    expect(error).toBeInstanceOf(ConnectionError)
    expect((error as ConnectionError).reason).toBe('permission-denied')
    expect((error as ConnectionError).isRetryable).toBe(false)
    expect((error as Error).message).toContain('NOPERM')
    expect(visible(error)).not.toContain(password)
    await mq.close()
  })

  it('reports failed re-authentication after the password changed without either password', async () => {
    const errors: Error[] = []
    const mq = await connect(userUrl(password), { adapter, logger })
    const queue = mq.queue<string>(uniqueName('acl-reauth'), { codec: 'text' })
    await queue.consume(() => {}, { onError: (error) => errors.push(error) }).ready
    const replaced = `pw-${randomBytes(12).toString('hex')}`
    try {
      // The server now wants another password; dropping the user's connections makes ioredis reconnect
      // and send the old one with AUTH, whose error carries it in `error.command.args`.
      await redisCli(adminUrl, 'ACL', 'SETUSER', user, 'resetpass', `>${replaced}`)
      await redisCli(adminUrl, 'CLIENT', 'KILL', 'USER', user)
      const reportedBoth = async () => errors.some((error) => error.message.includes('WRONGPASS')) && lines.some((line) => line.includes('WRONGPASS'))
      await waitUntil(reportedBoth, 15_000, 'the re-authentication failures to be reported to onError and the logger')
    } finally {
      await redisCli(adminUrl, 'ACL', 'SETUSER', user, 'resetpass', `>${password}`)
    }
    await mq.close()
    expect(errors.every((error) => AnymqError.isInstance(error))).toBe(true)
    for (const error of errors) {
      expect(visible(error)).not.toContain(password)
      expect(visible(error)).not.toContain(replaced)
    }
    for (const line of lines) {
      expect(line).not.toContain(password)
      expect(line).not.toContain(replaced)
    }
  })
})
