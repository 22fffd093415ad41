import { brokerUrl, describeFrozenClose } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { adapter } from '../src/index.js'

/** The endpoint of a `gcp-pubsub://` URL (`?endpoint=host:port`), which is what the client dials. */
function endpointOf(url: string): URL {
  const endpoint = new URL(url).searchParams.get('endpoint')
  if (!endpoint) throw new Error(`the frozen-close case needs a gcp-pubsub:// URL with ?endpoint=, got ${url}`)
  return new URL(endpoint.includes('://') ? endpoint : `http://${endpoint}`)
}

const url = brokerUrl('ANYMQ_PUBSUB_URL')

describeFrozenClose({
  name: 'gcp-pubsub',
  url: url && new URL(url).searchParams.has('endpoint') ? url : undefined,
  relay: {
    target: endpointOf,
    through: (pubsubUrl, relay) => {
      const relayed = new URL(pubsubUrl)
      relayed.searchParams.set('endpoint', `127.0.0.1:${relay.port}`)
      return relayed.toString()
    },
  },
  freezeInHandler: true,
  connect: (relayed, logger) => connect(relayed, { adapter, logger }),
  // Before: 60 s with the freeze in the handler (the ack waited out the client's call timeout).
  closeWithinMs: 20_000,
})
