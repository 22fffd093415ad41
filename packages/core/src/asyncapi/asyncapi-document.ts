import type { AsyncApiBindings, AsyncApiChannelInfo } from '../spi/asyncapi-bindings.js'
import type { DeclaredChannel } from './declared-channels.js'
import { type JsonSchema, toJsonSchema } from './json-schema.js'

/** The `info` of a generated AsyncAPI document. */
export interface AsyncApiInfo {
  title: string
  version: string
  description?: string
}

/** An AsyncAPI 3.0 document as a plain object, ready for `JSON.stringify` or a YAML writer. */
export type AsyncApiDocument = Record<string, unknown> & { asyncapi: '3.0.0' }

export interface AsyncApiSource {
  info: AsyncApiInfo
  /** The connection URL, credentials already removed. */
  url: URL
  /** Every `host:port` of the URL (several for a Kafka bootstrap list). */
  hosts: readonly string[]
  adapter: string
  bindings: AsyncApiBindings | undefined
  channels: readonly DeclaredChannel[]
}

const serverRef = { $ref: '#/servers/broker' }

/** A key AsyncAPI accepts for channels, messages and operations: letters, digits, `.`, `-`, `_`. */
function identifier(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]/g, '_')
}

function payloadOf(schema: DeclaredChannel['schema']): JsonSchema {
  return toJsonSchema(schema) ?? { description: schema === undefined ? 'no schema declared' : 'the schema library offers no JSON Schema for this schema' }
}

/**
 * The AsyncAPI 3.0 document of what an application declared on one connection: one server (the
 * broker, with the adapter's protocol and server bindings), a channel per queue, topic and request/reply
 * endpoint (plus a dynamic reply channel) with its message, payload schema and content type, and the
 * operations the application performs — send to queues and topics, receive from consumed queues and
 * from each named subscription, request/reply with AsyncAPI's `reply`.
 */
export function buildAsyncApiDocument(source: AsyncApiSource): AsyncApiDocument {
  const { bindings } = source
  const channels: Record<string, unknown> = {}
  const operations: Record<string, unknown> = {}
  const withBindings = <T extends Record<string, unknown>>(target: T, found: Record<string, unknown> | undefined): T =>
    found !== undefined && Object.keys(found).length > 0 ? { ...target, bindings: found } : target

  for (const channel of source.channels) {
    const info: AsyncApiChannelInfo = { kind: channel.kind, name: channel.name }
    const id = identifier(channel.name)
    const channelRef = { $ref: `#/channels/${id}` }
    const messageId = channel.kind === 'request-reply' ? 'request' : 'message'
    const messageRef = { $ref: `#/channels/${id}/messages/${messageId}` }
    const description =
      channel.kind === 'queue'
        ? `Queue '${channel.name}': each message to one consumer, at least once.${channel.deadLetter ? ` Failed messages go to '${channel.deadLetter}'.` : ''}`
        : channel.kind === 'topic'
          ? `Topic '${channel.name}': every subscription receives every message.`
          : `Requests to '${channel.name}'; replies go to the requester's inbox named in replyTo.`
    channels[id] = withBindings(
      {
        address: channel.name,
        description,
        servers: [serverRef],
        messages: { [messageId]: { name: messageId, contentType: channel.contentType, payload: payloadOf(channel.schema) } },
      },
      bindings?.channel?.(info),
    )
    if (channel.kind === 'request-reply') {
      const replyId = identifier(`${channel.name}.reply`)
      channels[replyId] = {
        address: null,
        description: `Replies to requests on '${channel.name}': a private inbox per requesting connection, named in each request's replyTo.`,
        servers: [serverRef],
        messages: { response: { name: 'response', contentType: channel.contentType, payload: payloadOf(channel.responseSchema) } },
      }
      const reply = {
        address: { location: '$message.header#/replyTo', description: 'the inbox of the requesting connection' },
        channel: { $ref: `#/channels/${replyId}` },
        messages: [{ $ref: `#/channels/${replyId}/messages/response` }],
      }
      if (channel.sent) operations[identifier(`request.${channel.name}`)] = { action: 'send', channel: channelRef, messages: [messageRef], reply }
      if (channel.received)
        operations[identifier(`serve.${channel.name}`)] = withBindings(
          { action: 'receive', channel: channelRef, messages: [messageRef], reply },
          bindings?.receive?.(info, undefined),
        )
      continue
    }
    operations[identifier(`${channel.kind === 'topic' ? 'publish' : 'send'}.${channel.name}`)] = { action: 'send', channel: channelRef, messages: [messageRef] }
    if (channel.kind === 'queue' && channel.received)
      operations[identifier(`receive.${channel.name}`)] = withBindings(
        { action: 'receive', channel: channelRef, messages: [messageRef] },
        bindings?.receive?.(info, undefined),
      )
    for (const subscription of channel.subscriptions)
      operations[identifier(`receive.${channel.name}.${subscription ?? 'ephemeral'}`)] = withBindings(
        {
          action: 'receive',
          channel: channelRef,
          messages: [messageRef],
          description:
            subscription === undefined ? 'An ephemeral subscription, private to one consumer.' : `Subscription '${subscription}': its consumers compete.`,
        },
        bindings?.receive?.(info, subscription),
      )
  }

  const pathname = source.url.pathname && source.url.pathname !== '/' ? source.url.pathname : undefined
  const server = withBindings(
    {
      host: source.hosts.length > 0 ? source.hosts.join(',') : source.url.host || source.url.hostname || 'localhost',
      protocol: bindings?.protocol ?? source.url.protocol.replace(/:$/, ''),
      ...(bindings?.protocolVersion === undefined ? {} : { protocolVersion: bindings.protocolVersion }),
      ...(pathname === undefined ? {} : { pathname }),
      description: `The ${source.adapter} broker this connection uses.`,
    },
    bindings?.server?.(),
  )
  return {
    asyncapi: '3.0.0',
    info: {
      title: source.info.title,
      version: source.info.version,
      ...(source.info.description === undefined ? {} : { description: source.info.description }),
    },
    defaultContentType: 'application/json',
    servers: { broker: server },
    channels,
    operations,
  }
}
