import { brokerUrl, describeFrozenClose } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { adapter } from '../src/index.js'

/** The SQS endpoint of an `sqs://` URL (`?endpoint=`), which is what the SDK dials. */
function endpointOf(url: string): URL {
  const endpoint = new URL(url).searchParams.get('endpoint')
  if (!endpoint) throw new Error(`the frozen-close case needs an sqs:// URL with ?endpoint=, got ${url}`)
  return new URL(endpoint.includes('://') ? endpoint : `http://${endpoint}`)
}

const url = brokerUrl('ANYMQ_SQS_URL')

describeFrozenClose({
  name: 'aws (sqs)',
  url: url && new URL(url).searchParams.has('endpoint') ? url : undefined,
  relay: {
    target: endpointOf,
    through: (sqsUrl, relay) => {
      const relayed = new URL(sqsUrl)
      const endpoint = endpointOf(sqsUrl)
      relayed.searchParams.set('endpoint', `${endpoint.protocol}//127.0.0.1:${relay.port}`)
      // Shorter long polls keep the case short: close waits for the polls still at SQS (waitTimeSeconds + 2 s at most).
      relayed.searchParams.set('waitTimeSeconds', '3')
      return relayed.toString()
    },
  },
  freezeInHandler: true,
  connect: (relayed, logger) => connect(relayed, { adapter, logger }),
  // Before: still closing after 90 s with the freeze in the handler (the ack's DeleteMessageBatch waited out the SDK's timeout and retries).
  closeWithinMs: 12_000,
})
