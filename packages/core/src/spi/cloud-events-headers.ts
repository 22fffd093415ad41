/**
 * How CloudEvents attributes travel as headers on one broker in binary content mode, after the
 * CloudEvents protocol binding of its transport. An adapter declares it on its factory
 * (`AdapterFactory.cloudEvents`); core reads and writes the headers, knowing no broker.
 */
export interface CloudEventsHeaders {
  /**
   * Prefix written before each attribute name: `cloudEvents:` (AMQP binding), `ce_` (Kafka binding),
   * `ce-` (HTTP, NATS and Pub/Sub bindings, and anymq's choice where no binding exists).
   */
  readonly attributePrefix: string
  /** Further prefixes accepted on receive, e.g. `cloudEvents_` (the AMQP binding's JMS-compatible form). Matched ignoring case. */
  readonly acceptedPrefixes?: readonly string[]
  /**
   * The header that carries `datacontenttype` (binary mode) and the event format's media type
   * (structured mode) when the adapter's own content type is not where other clients look for it:
   * Kafka and NATS records carry it in a `content-type` header. Absent: the message's content type
   * (AMQP content-type property, Redis field…) is that place.
   */
  readonly contentTypeHeader?: string
}

/** The convention of adapters that declare none: HTTP-style `ce-` headers, the message's own content type. */
export const defaultCloudEventsHeaders: CloudEventsHeaders = { attributePrefix: 'ce-' }
