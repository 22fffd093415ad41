import { registerAdapter } from '@anymq/core'
import { adapter } from './redis-adapter.js'

registerAdapter(adapter)

export { adapter, capabilities } from './redis-adapter.js'
export type { RedisBrokerOptions } from './redis-config.js'
export { fields as wireFields } from './redis-wire.js'
