import { registerAdapter } from '@anymq/core'
import { adapter } from './kafka-adapter.js'

registerAdapter(adapter)

export { adapter, capabilities } from './kafka-adapter.js'
export type { KafkaBrokerOptions, KafkaSasl, KafkaSettings } from './kafka-config.js'
