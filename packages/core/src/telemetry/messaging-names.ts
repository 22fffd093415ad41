import type { Destination, Source } from '../spi/transport.js'

/** Attribute names of the OpenTelemetry messaging semantic conventions (v1.28+) that anymq writes. */
export const messagingAttributes = {
  system: 'messaging.system',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  destinationName: 'messaging.destination.name',
  destinationTemporary: 'messaging.destination.temporary',
  destinationAnonymous: 'messaging.destination.anonymous',
  subscriptionName: 'messaging.destination.subscription.name',
  messageId: 'messaging.message.id',
  conversationId: 'messaging.message.conversation_id',
  bodySize: 'messaging.message.body.size',
  batchCount: 'messaging.batch.message_count',
  errorType: 'error.type',
  attempt: 'anymq.message.attempt',
} as const

/** How a destination is named in span names and attributes; reply inboxes are temporary and anonymous. */
export function destinationAttributes(destination: Destination | Source): { name: string; attributes: Record<string, string | boolean> } {
  switch (destination.kind) {
    case 'queue':
      return { name: destination.queue.name, attributes: { [messagingAttributes.destinationName]: destination.queue.name } }
    case 'topic':
      return { name: destination.topic, attributes: { [messagingAttributes.destinationName]: destination.topic } }
    case 'subscription': {
      const { topic, name } = destination.subscription
      const attributes: Record<string, string | boolean> = { [messagingAttributes.destinationName]: topic }
      if (name !== undefined) attributes[messagingAttributes.subscriptionName] = name
      return { name: topic, attributes }
    }
    case 'inbox':
      return {
        name: '(anonymous)',
        attributes: { [messagingAttributes.destinationTemporary]: true, [messagingAttributes.destinationAnonymous]: true },
      }
  }
}
