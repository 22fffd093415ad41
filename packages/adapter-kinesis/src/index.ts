import { registerAdapter } from '@anymq/core'
import { adapter } from './kinesis-adapter.js'

registerAdapter(adapter)

export { adapter, capabilities } from './kinesis-adapter.js'
export type { KinesisBrokerOptions, KinesisConfig, KinesisStartAt } from './kinesis-config.js'
