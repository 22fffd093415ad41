import { brokerUrl, describeFrozenClose, endpointParamRelay } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_KINESIS_URL')

describeFrozenClose({
  name: 'kinesis',
  url: url && new URL(url).searchParams.has('endpoint') ? url : undefined,
  relay: endpointParamRelay(),
  freezeInHandler: true,
  connect: (relayed, logger) => connect(relayed, { adapter, logger }),
  // Before: still closing after 90 s (GetRecords and the lease writes waited out the client's 30 s timeout and retries).
  closeWithinMs: 20_000,
})
