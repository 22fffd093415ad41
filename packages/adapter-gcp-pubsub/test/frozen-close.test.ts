import { brokerUrl, describeFrozenClose, endpointParamRelay } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_PUBSUB_URL')

describeFrozenClose({
  name: 'gcp-pubsub',
  url: url && new URL(url).searchParams.has('endpoint') ? url : undefined,
  relay: endpointParamRelay(),
  freezeInHandler: true,
  connect: (relayed, logger) => connect(relayed, { adapter, logger }),
  // Before: 60 s with the freeze in the handler (the ack waited out the client's call timeout).
  closeWithinMs: 20_000,
})
