import { registerAdapter } from '@anymq/core'
import { adapter } from './memory-adapter.js'

registerAdapter(adapter)

export { adapter, capabilities } from './memory-adapter.js'
