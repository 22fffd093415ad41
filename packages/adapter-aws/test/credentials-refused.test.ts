import { readFileSync } from 'node:fs'
import { brokerUrl, describeConnectionRefusals, everythingIn, uniqueName } from '@anymq/conformance'
import { type Anymq, AnymqError, connect } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

// The moto of scripts/brokers.sh that checks what AWS checks: each request's signature against IAM's
// access keys, then the user's policies. `anymq-allowed` may do anything, `anymq-sqs-only` only SQS.
const url = brokerUrl('ANYMQ_SQS_AUTH_URL')
const usersFile = process.env.ANYMQ_AWS_AUTH_USERS

interface Key {
  accessKeyId: string
  secretAccessKey: string
}

describe.skipIf(!url || !usersFile)(`aws: credentials AWS refuses${!url ? ' (ANYMQ_SQS_AUTH_URL unset: run scripts/brokers.sh up sqs)' : ''}`, () => {
  const users = (usersFile ? JSON.parse(readFileSync(usersFile, 'utf8')) : {}) as { allowed: Key; sqsOnly: Key }
  const wrongSecret = 'anymq-Wrong-Secret-7f2k'
  const open = (credentials: Key, query = '') => connect(`${url}${query}`, { adapter, broker: { credentials } })

  describeConnectionRefusals({
    name: 'aws (moto checking signatures)',
    secret: wrongSecret,
    // SQS answers the refusal (403) in a body its SDK cannot read on moto; AWS names it InvalidClientTokenId or SignatureDoesNotMatch.
    cases: { authentication: () => open({ accessKeyId: users.allowed?.accessKeyId, secretAccessKey: wrongSecret }) },
  })

  let connection: Anymq | undefined
  afterEach(async () => {
    await connection?.close()
    connection = undefined
  })

  it('takes a key moto knows: a message goes round', async () => {
    connection = await open(users.allowed, '&waitTimeSeconds=1')
    const queue = connection.queue<{ n: number }>(uniqueName('auth-ok'))
    const received = new Promise<number>((resolve) => queue.consume(async (message) => resolve(message.body.n)))
    await queue.send({ n: 7 })
    expect(await received).toBe(7)
  })

  it('refuses a key AWS does not know at connect(): an authentication ConnectionError without the secret', async () => {
    const failure = await open({ accessKeyId: 'AKIAANYMQUNKNOWNKEY1', secretAccessKey: wrongSecret }).then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(AnymqError.isInstance(failure)).toBe(true)
    expect(failure).toMatchObject({ code: 'ERR_CONNECTION', reason: 'authentication', isRetryable: false })
    expect((failure as Error).message).toMatch(/authentication failed: AWS refused the (access key|request)/)
    expect(everythingIn(failure)).not.toContain(wrongSecret)
  })

  it('says permission denied for a call the IAM policy does not allow (SNS for an SQS-only user), and sends on SQS', async () => {
    connection = await open(users.sqsOnly)
    await connection.queue(uniqueName('auth-sqs-only')).send({ allowed: true })
    const failure = await connection
      .topic(uniqueName('auth-denied'))
      .publish({ allowed: false })
      .then(
        () => undefined,
        (error: unknown) => error,
      )
    expect(failure).toMatchObject({ code: 'ERR_CONNECTION', reason: 'permission-denied', isRetryable: false })
    expect((failure as Error).message).toMatch(
      /permission denied: the credentials are valid, but their IAM policy does not allow this call; (AuthorizationError|AccessDenied)/,
    )
    expect(everythingIn(failure)).not.toContain(users.sqsOnly.secretAccessKey)
  })
})
