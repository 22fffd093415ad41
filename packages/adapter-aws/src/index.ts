import { registerAdapter } from '@anymq/core'
import { adapter } from './aws-adapter.js'

registerAdapter(adapter)

export { adapter, capabilities, capabilityVariants, eventBridgeCapabilities, fifoCapabilities } from './aws-adapter.js'
export type { AwsBrokerOptions, AwsConfig } from './aws-config.js'
