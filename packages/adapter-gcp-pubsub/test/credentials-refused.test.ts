import { generateKeyPairSync } from 'node:crypto'
import { describeConnectionRefusals } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { afterAll, beforeAll } from 'vitest'
import { adapter } from '../src/index.js'
import { startRefusingGrpcServer } from './refusing-grpc-server.js'

// Google's answers to refused credentials, from endpoints that give nothing else: UNAUTHENTICATED
// for a key it does not accept, PERMISSION_DENIED for one whose roles do not allow the call.
const servers: Record<'authentication' | 'permission-denied', { port: number; close(): Promise<void> } | undefined> = {
  authentication: undefined,
  'permission-denied': undefined,
}
beforeAll(async () => {
  servers.authentication = await startRefusingGrpcServer(16, 'Request had invalid authentication credentials. Expected OAuth 2 access token.')
  servers['permission-denied'] = await startRefusingGrpcServer(7, 'User not authorized to perform this action.')
})
afterAll(async () => {
  await Promise.all(Object.values(servers).map((server) => server?.close()))
})

// A key given as broker.credentials is registered as a secret: no refusal may show it.
const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
const credentials = { client_email: 'anymq-test@anymq-test.iam.gserviceaccount.com', private_key: privateKey }
const at = (reason: keyof typeof servers) => () =>
  connect(`gcp-pubsub://anymq-test?endpoint=127.0.0.1:${servers[reason]?.port}&connectTimeoutMs=5000`, { adapter, broker: { credentials } })

describeConnectionRefusals({
  name: 'gcp-pubsub (gRPC statuses of a refusal)',
  secret: privateKey.split('\n')[1] ?? privateKey,
  cases: { authentication: at('authentication'), 'permission-denied': at('permission-denied') },
})
