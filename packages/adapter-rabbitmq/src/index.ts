import { registerAdapter } from '@anymq/core'
import { adapter } from './rabbitmq-adapter.js'

registerAdapter(adapter)

export { adapter, capabilities } from './rabbitmq-adapter.js'
export type { QueueType, RabbitmqBrokerOptions, RabbitmqQueueOptions } from './rabbitmq-config.js'
