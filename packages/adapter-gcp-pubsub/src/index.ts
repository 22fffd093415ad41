import { registerAdapter } from '@anymq/core'
import { adapter } from './gcp-pubsub-adapter.js'

registerAdapter(adapter)

export { adapter, capabilities } from './gcp-pubsub-adapter.js'
export type { PubSubBrokerOptions } from './gcp-pubsub-config.js'
export { escapeName } from './gcp-pubsub-names.js'
export { fields as wireFields } from './gcp-pubsub-wire.js'
