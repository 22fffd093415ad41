import { brokerUrl, describeConnectSignal } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_KINESIS_URL')
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' }

describeConnectSignal({
  name: 'kinesis',
  // Before, the request stayed open for good, with or without a signal: no request timeout was set for Kinesis.
  connectSilent: (port, signal) => connect(`kinesis://us-east-1?endpoint=http://127.0.0.1:${port}`, { adapter, broker: { credentials }, signal }),
  connect: url ? (signal) => connect(url, { adapter, signal }) : undefined,
  deadlineMessage: /no answer within 10000 ms/,
})
