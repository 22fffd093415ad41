import { brokerUrl, describeConnectSignal } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_SQS_URL')
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }

describeConnectSignal({
  name: 'aws',
  // Before, the request stayed open until its 30 s timeout, then was retried twice (~92 s without a signal).
  connectSilent: (port, signal) => connect(`sqs://us-east-1?endpoint=http://127.0.0.1:${port}`, { adapter, broker: { credentials }, signal }),
  connect: url ? (signal) => connect(url, { adapter, signal }) : undefined,
  deadlineMessage: /no answer within 10000 ms/,
})
