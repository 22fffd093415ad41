import { registerAdapter } from '@anymq/core'
import { adapter } from './nats-adapter.js'

registerAdapter(adapter)

export { adapter, capabilities } from './nats-adapter.js'
export type { NatsBrokerOptions } from './nats-config.js'
export { escapeName } from './nats-names.js'
export { fields as wireFields } from './nats-wire.js'
