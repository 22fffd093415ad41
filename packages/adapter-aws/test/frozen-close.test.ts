import { brokerUrl, describeFrozenClose, endpointParamRelay } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_SQS_URL')

describeFrozenClose({
  name: 'aws (sqs)',
  url: url && new URL(url).searchParams.has('endpoint') ? url : undefined,
  // Shorter long polls keep the case short: close waits for the polls still at SQS (waitTimeSeconds + 2 s at most).
  relay: endpointParamRelay({ waitTimeSeconds: '3' }),
  freezeInHandler: true,
  connect: (relayed, logger) => connect(relayed, { adapter, logger }),
  // Before: still closing after 90 s with the freeze in the handler (the ack's DeleteMessageBatch waited out the SDK's timeout and retries).
  closeWithinMs: 12_000,
})
