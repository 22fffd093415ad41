import { brokerUrl, describeConnectSignal } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { adapter } from '../src/index.js'
import { startSilentHttp2Server } from './silent-http2-server.js'

const url = brokerUrl('ANYMQ_PUBSUB_URL')

describeConnectSignal({
  name: 'gcp-pubsub',
  // An endpoint that completes the HTTP/2 handshake and never answers; before, the call (and the
  // channel's socket) stayed open until connectTimeoutMs.
  connectSilent: (port, signal) => connect(`gcp-pubsub://anymq-test?endpoint=127.0.0.1:${port}&connectTimeoutMs=60000`, { adapter, signal }),
  connect: url ? (signal) => connect(url, { adapter, signal }) : undefined,
  silentServer: startSilentHttp2Server,
})
