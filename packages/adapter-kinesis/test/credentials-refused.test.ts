import { readFileSync } from 'node:fs'
import { brokerUrl, describeConnectionRefusals, uniqueName } from '@anymq/conformance'
import { type Anymq, connect } from '@anymq/core'
import { afterEach, describe, expect, it } from 'vitest'
import { adapter } from '../src/index.js'

// The moto of scripts/brokers.sh that checks each request's signature against IAM's access keys and
// the user's policies; `anymq-allowed` may do anything.
const url = brokerUrl('ANYMQ_KINESIS_AUTH_URL')
const usersFile = process.env.ANYMQ_AWS_AUTH_USERS

describe.skipIf(!url || !usersFile)(`kinesis: credentials AWS refuses${!url ? ' (ANYMQ_KINESIS_AUTH_URL unset: run scripts/brokers.sh up sqs)' : ''}`, () => {
  const allowed = (usersFile ? JSON.parse(readFileSync(usersFile, 'utf8')).allowed : {}) as { accessKeyId: string; secretAccessKey: string }
  const wrongSecret = 'anymq-Wrong-Kinesis-Secret-4q8z'

  // No 'permission-denied' case: moto answers Kinesis' and DynamoDB's refusals (JSON protocol) in XML,
  // which the SDK cannot read, so the adapter sees an unnamed 403; AWS names it (AccessDeniedException).
  describeConnectionRefusals({
    name: 'kinesis (moto checking signatures)',
    secret: wrongSecret,
    cases: {
      authentication: () => connect(url ?? '', { adapter, broker: { credentials: { accessKeyId: allowed.accessKeyId, secretAccessKey: wrongSecret } } }),
    },
  })

  let connection: Anymq | undefined
  afterEach(async () => {
    await connection?.close()
    connection = undefined
  })

  it('takes a key moto knows: a message goes round (Kinesis and the DynamoDB lease table)', async () => {
    connection = await connect(`${url}&pollMs=100`, { adapter, broker: { credentials: allowed } })
    const queue = connection.queue<{ n: number }>(uniqueName('auth-ok'))
    const received = new Promise<number>((resolve) => queue.consume(async (message) => resolve(message.body.n)))
    await queue.send({ n: 11 })
    expect(await received).toBe(11)
  }, 60_000)
})
