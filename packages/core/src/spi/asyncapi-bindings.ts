/** A queue, topic or request/reply endpoint as an adapter's AsyncAPI bindings see it. */
export interface AsyncApiChannelInfo {
  kind: 'queue' | 'topic' | 'request-reply'
  /** The anymq name, which is the broker-side address. */
  name: string
}

/**
 * How an adapter describes its broker in an AsyncAPI 3.0 document (`mq.asyncapi()`): the server's
 * protocol and the protocol bindings (https://github.com/asyncapi/bindings) of the server, of each
 * channel and of each receive operation. Core writes the rest of the document, knowing no broker.
 */
export interface AsyncApiBindings {
  /** AsyncAPI `protocol` of the server: `amqp`, `kafka`, `sqs`, `redis`, `nats`, `googlepubsub`… */
  readonly protocol: string
  readonly protocolVersion?: string
  /** The server's `bindings` object, e.g. `{ kafka: { bindingVersion: '0.5.0' } }`. */
  server?(): Record<string, unknown>
  /** A channel's `bindings` object, e.g. an AMQP queue or exchange, a Kafka topic. */
  channel?(channel: AsyncApiChannelInfo): Record<string, unknown>
  /** A receive operation's `bindings`; `subscription` is the named subscription (a topic's consumer group), absent for queues. */
  receive?(channel: AsyncApiChannelInfo, subscription: string | undefined): Record<string, unknown>
}
