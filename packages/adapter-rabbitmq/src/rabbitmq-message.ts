import { randomUUID } from 'node:crypto'
import { attemptFromHeaders, ConfigError, type ConfigProblem, type IncomingMessage, type OutgoingMessage, wireHeaders } from '@anymq/core/spi'
import type { Message } from 'amqplib'
import { adapterName } from './rabbitmq-errors.js'
import type { PublishProperties } from './rabbitmq-publish-frame.js'

/**
 * Reserved headers this adapter adds beside core's `x-anymq-*` ones, for what AMQP 0-9-1 has no
 * property for. They are mapped back to message fields on receive, so users never see them.
 */
export const rabbitmqHeaders = {
  /** The ordering key. */
  key: 'x-anymq-key',
  /** The topic subject (also the routing key of a topic publish). */
  subject: 'x-anymq-subject',
  /** Epoch milliseconds; the AMQP `timestamp` property holds only seconds. */
  timestamp: 'x-anymq-timestamp',
} as const

/** Headers RabbitMQ adds when it dead-letters (our delay queues); not the user's business. */
const brokerHeaders = /^x-(death|first-death-|last-death-|delivery-count$)/

/** Longest AMQP 0-9-1 short string: header names and the id, correlation id and reply-to properties. */
const shortStringBytes = 255

/** The message fields AMQP carries as short strings. */
const shortStringFields = ['id', 'correlationId', 'replyTo'] as const

/** A string of at most 85 UTF-16 units is at most 255 bytes in UTF-8: most are not measured at all. */
function tooLong(value: string | undefined): boolean {
  return value !== undefined && value.length * 3 > shortStringBytes && Buffer.byteLength(value) > shortStringBytes
}

/** How one kind of destination is published to; one object per transport, not one per message. */
export interface PublishMode {
  persistent: boolean
  mandatory: boolean
  /** Write `x-anymq-timestamp` (epoch ms) beside the whole seconds of AMQP's `timestamp`. */
  millisecondTimestamps: boolean
}

/**
 * AMQP properties of an outgoing message. Throws `ConfigError` for what AMQP cannot carry (a header
 * name or id over 255 bytes), before anything is written to the channel.
 */
export function publishOptions(message: OutgoingMessage, options: PublishMode): PublishProperties {
  // Runs on every publish: no closure, key list or field list is built for it.
  const problems: ConfigProblem[] = []
  for (const name in message.headers) {
    if (tooLong(name))
      problems.push({ field: `headers.${name.slice(0, 40)}…`, message: `the name is ${Buffer.byteLength(name)} bytes in UTF-8; AMQP allows 255` })
    // Dropped on receive (they are RabbitMQ's), so refused on send rather than lost on the way.
    else if (brokerHeaders.test(name)) problems.push({ field: `headers.${name}`, message: 'RabbitMQ sets this header itself when it dead-letters; rename it' })
  }
  for (const field of shortStringFields) {
    if (tooLong(message[field])) problems.push({ field, message: `is ${Buffer.byteLength(message[field] as string)} bytes in UTF-8; AMQP allows 255` })
  }
  if (problems.length > 0) throw new ConfigError(problems, { adapter: adapterName })
  const headers: Record<string, string> = { ...message.headers }
  if (message.key !== undefined) headers[rabbitmqHeaders.key] = message.key
  if (message.subject !== undefined) headers[rabbitmqHeaders.subject] = message.subject
  if (options.millisecondTimestamps) headers[rabbitmqHeaders.timestamp] = String(message.timestamp)
  // Native per-message TTL: RabbitMQ discards the message once expired (its queues have no dead-letter
  // exchange). Not on a delayed message: the delay queue's own TTL must decide when it moves on.
  const expiresAt = Number(message.headers[wireHeaders.expiresAt])
  const expiration = message.delayMs === 0 && Number.isFinite(expiresAt) ? String(Math.max(1, expiresAt - Date.now())) : undefined
  const properties: PublishProperties = {
    messageId: message.id,
    contentType: message.contentType,
    // No object for an empty table: the frame carries an empty one (as amqplib always wrote) without walking it.
    headers: hasHeader(headers) ? headers : undefined,
    correlationId: message.correlationId,
    replyTo: message.replyTo,
    timestamp: Math.floor(message.timestamp / 1000),
    persistent: options.persistent,
    mandatory: options.mandatory,
  }
  if (expiration !== undefined) properties.expiration = expiration
  // Only a priority queue (x-max-priority, or a quorum queue of RabbitMQ 4) reads it; core sends one only to those.
  if (message.priority !== undefined) properties.priority = message.priority
  return properties
}

/**
 * A received message as core sees it. Works for messages from any AMQP client: a missing message id
 * gets a random one, header values other than strings are turned into strings, and the attempt is
 * the `x-anymq-attempt` header plus the broker's own redelivery count.
 */
export function toIncoming(raw: Message): IncomingMessage {
  const properties = raw.properties
  const headers: Record<string, string> = {}
  let key: string | undefined
  let subject: string | undefined
  let milliseconds = Number.NaN
  const table = properties.headers
  // The adapter's own headers are read out rather than copied then deleted: a `delete` turns the
  // object into a slow dictionary that every later read of the headers pays for.
  if (table)
    for (const name in table) {
      const text = headerText(table[name])
      if (text === undefined) continue
      if (name === rabbitmqHeaders.key) key = text
      else if (name === rabbitmqHeaders.subject) subject = text
      else if (name === rabbitmqHeaders.timestamp) milliseconds = Number(text)
      else if (!brokerHeaders.test(name)) headers[name] = text
    }
  const seconds = typeof properties.timestamp === 'number' ? properties.timestamp : undefined
  const timestamp = Number.isFinite(milliseconds) && milliseconds > 0 ? milliseconds : seconds !== undefined ? seconds * 1000 : Date.now()
  const deliveryCount = properties.headers?.['x-delivery-count']
  const redeliveries = typeof deliveryCount === 'number' ? deliveryCount : raw.fields.redelivered ? 1 : 0
  return {
    id: typeof properties.messageId === 'string' && properties.messageId !== '' ? properties.messageId : randomUUID(),
    body: new Uint8Array(raw.content.buffer, raw.content.byteOffset, raw.content.byteLength),
    contentType: typeof properties.contentType === 'string' ? properties.contentType : 'application/octet-stream',
    headers,
    key,
    correlationId: stringOrUndefined(properties.correlationId),
    replyTo: stringOrUndefined(properties.replyTo),
    timestamp,
    subject,
    attempt: attemptFromHeaders(headers) + redeliveries,
  }
}

function hasHeader(headers: Record<string, string>): boolean {
  for (const _ in headers) return true
  return false
}

function stringOrUndefined(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined
  return typeof value === 'string' ? value : String(value)
}

function headerText(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return value
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value)
    case 'object':
      if (value === null) return undefined
      if (Buffer.isBuffer(value)) return value.toString('utf8')
      // Typed values from other clients: { '!': 'timestamp', value: 1700000000 }.
      if ('value' in value && (typeof value.value === 'number' || typeof value.value === 'string')) return String(value.value)
      return undefined
    default:
      return undefined
  }
}
