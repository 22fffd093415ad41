import { AnymqError, ConfigError, ConnectionError, type ConnectionFailure, PublishError, tlsFailureOf } from '@anymq/core/spi'

export const adapterName = 'rabbitmq'

/** AMQP reply codes that say something about the call rather than the connection. */
const replyCodes = {
  contentTooLarge: 311,
  noRoute: 312,
  accessRefused: 403,
  notFound: 404,
  resourceLocked: 405,
  preconditionFailed: 406,
} as const

/** The AMQP reply code an amqplib error carries (channel or connection close), if any. */
export function replyCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code
  return typeof code === 'number' ? code : undefined
}

export function isNotFound(error: unknown): boolean {
  return replyCode(error) === replyCodes.notFound
}

/** Why a mandatory message came back unrouted (basic.return): no queue of its routing key. */
export class NotRoutedError extends Error {
  override readonly name = 'NotRoutedError'
}

/**
 * A publish that failed because its queue or exchange is not there (deleted behind this connection's
 * back): a mandatory message returned unrouted, or the channel closed with 404 NOT_FOUND. The broker
 * stored none of those messages.
 */
export function isVanishedDestination(error: unknown): boolean {
  const cause = (error as { cause?: unknown } | undefined)?.cause
  return cause instanceof NotRoutedError || isNotFound(error) || isNotFound(cause)
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/** The anymq option behind each queue argument anymq declares. */
const optionOfArgument: Record<string, string> = {
  'x-max-priority': 'maxPriority',
  'x-queue-type': 'queueType',
  'x-single-active-consumer': 'ordered',
}

/**
 * Says which argument of an existing queue differs from what was asked, from RabbitMQ's
 * "inequivalent arg 'x-max-priority' for queue 'q' in vhost '/': received '5' but current is '9'".
 */
export function explainPreconditionFailed(brokerText: string): string {
  const inequivalent = /inequivalent arg '([^']+)'[^:]*:\s*(.*?)"?$/.exec(brokerText)
  if (inequivalent) {
    const [, argument = '', detail = ''] = inequivalent
    const option = optionOfArgument[argument]
    const named = option === undefined ? `argument '${argument}'` : `${option} (argument '${argument}')`
    return `exists on the broker with a different ${named}: ${detail.replace(/^received/, 'asked for')}; the broker fixes it when it creates the queue, so delete the queue or use the value it was created with`
  }
  return `exists on the broker with different settings (${brokerText}); delete it, or use the settings it was created with (queueType, ordered, maxPriority)`
}

/**
 * Wraps an error raised while declaring topology: a mismatch with an existing queue or exchange, or a
 * permission problem, is a configuration problem that retrying will not fix; anything else is the
 * connection's.
 */
export function topologyError(what: string, error: unknown): AnymqError {
  if (AnymqError.isInstance(error)) return error
  const code = replyCode(error)
  if (code === replyCodes.preconditionFailed) {
    return new ConfigError([{ field: what, message: explainPreconditionFailed(messageOf(error)) }], { adapter: adapterName, cause: error })
  }
  if (code === replyCodes.accessRefused) {
    return new ConfigError([{ field: what, message: `access refused by the broker (${messageOf(error)}); check the user's permissions on this vhost` }], {
      adapter: adapterName,
      cause: error,
    })
  }
  if (code === replyCodes.resourceLocked) {
    return new ConfigError([{ field: what, message: `is exclusive to another connection (${messageOf(error)})` }], { adapter: adapterName, cause: error })
  }
  if (code === replyCodes.notFound) {
    return new ConfigError([{ field: what, message: `does not exist on the broker and provision is false (${messageOf(error)})` }], {
      adapter: adapterName,
      cause: error,
    })
  }
  return connectionError(`declaring ${what} failed: ${messageOf(error)}`, error)
}

/** A lost or unusable connection or channel: retryable, unless `reason` says the broker or TLS refused it. */
export function connectionError(message: string, cause?: unknown, reason?: ConnectionFailure): ConnectionError {
  return new ConnectionError(message, { adapter: adapterName, cause, reason })
}

/**
 * Why opening a connection failed, when it is a refusal rather than an outage: a TLS verdict, the
 * broker's 403 ACCESS_REFUSED to the login, or a Connection.Close in answer to Connection.Open, which
 * RabbitMQ sends when the user may not use the vhost (530 NOT_ALLOWED; amqplib drops the code there).
 */
export function connectFailureOf(error: unknown): ConnectionFailure | undefined {
  const tls = tlsFailureOf(error)
  if (tls) return tls
  const text = messageOf(error)
  if (/\b403\b.*ACCESS.REFUSED/.test(text)) return 'authentication'
  if (/Expected ConnectionOpenOk; got <ConnectionClose/.test(text)) return 'permission-denied'
  return undefined
}

/** The broker did not take a message. */
export function publishError(message: string, cause?: unknown, retryable = true): PublishError {
  return new PublishError(message, { adapter: adapterName, cause, retryable })
}

/** Wraps anything that escaped from amqplib during a publish. */
export function wrapPublishError(where: string, error: unknown): AnymqError {
  if (AnymqError.isInstance(error)) return error
  if (error instanceof RangeError) return publishError(`${where}: the message cannot be encoded (${error.message})`, error, false)
  const code = replyCode(error)
  if (code === replyCodes.contentTooLarge) return publishError(`${where}: the broker refused the message as too large`, error, false)
  if (code === replyCodes.notFound || code === replyCodes.accessRefused || code === replyCodes.preconditionFailed) {
    return topologyError(where, error)
  }
  return connectionError(`${where}: the connection or channel was lost before the broker confirmed the message; it may or may not be stored`, error)
}
