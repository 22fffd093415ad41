import { redactText } from './redact.js'

/** Stable codes carried by every {@link AnymqError}; safe to switch on. */
export type AnymqErrorCode =
  | 'ERR_CONFIG'
  | 'ERR_ADAPTER_NOT_INSTALLED'
  | 'ERR_CONNECTION'
  | 'ERR_PUBLISH'
  | 'ERR_MESSAGE_TOO_LARGE'
  | 'ERR_SERIALIZATION'
  | 'ERR_VALIDATION'
  | 'ERR_REQUEST_TIMEOUT'
  | 'ERR_REMOTE'
  | 'ERR_UNSUPPORTED_FEATURE'
  | 'ERR_CLOSED'
  | 'ERR_ABORTED'

export interface AnymqErrorOptions {
  /** The adapter that raised it (`memory`, `rabbitmq`, …); `core` when no adapter was involved. */
  adapter?: string
  cause?: unknown
  /** Whether repeating the same call may succeed (a dropped connection) or never will (a bad option). */
  retryable?: boolean
}

const marker = Symbol.for('anymq.error')

/**
 * Base of every error anymq throws. The message starts with `[anymq] [<adapter>]`, never contains
 * a password or token (it is redacted on construction), and `code` is stable across versions.
 */
export class AnymqError extends Error {
  readonly code: AnymqErrorCode
  readonly adapter: string
  readonly isRetryable: boolean
  readonly [marker] = true

  constructor(code: AnymqErrorCode, message: string, options: AnymqErrorOptions = {}) {
    const adapter = options.adapter ?? 'core'
    super(`[anymq] [${adapter}] ${redactText(message)}`, options.cause === undefined ? undefined : { cause: redactCause(options.cause) })
    this.name = new.target.name
    this.code = code
    this.adapter = adapter
    this.isRetryable = options.retryable ?? false
  }

  /** True for any anymq error, also across duplicated copies of this package. */
  static isInstance(value: unknown): value is AnymqError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[marker] === true
  }
}

function redactCause(cause: unknown): unknown {
  if (cause instanceof Error) {
    cause.message = redactText(cause.message)
    if (typeof cause.stack === 'string') cause.stack = redactText(cause.stack)
    return cause
  }
  return typeof cause === 'string' ? redactText(cause) : cause
}

/** A bad URL, option or value. Names the field, what was given and what is allowed. Never retryable. */
export class ConfigError extends AnymqError {
  readonly problems: readonly ConfigProblem[]
  constructor(
    problems: ConfigProblem[] | string,
    options: AnymqErrorOptions & {
      code?: 'ERR_CONFIG' | 'ERR_ADAPTER_NOT_INSTALLED'
    } = {},
  ) {
    const list = typeof problems === 'string' ? [{ field: '', message: problems }] : problems
    const text = list.map((problem) => (problem.field ? `${problem.field}: ${problem.message}` : problem.message)).join('; ')
    super(options.code ?? 'ERR_CONFIG', text, { ...options, retryable: false })
    // The problems travel with the error (and util.inspect shows them): redacted like the message.
    this.problems = list.map((problem) => ({ field: redactText(problem.field), message: redactText(problem.message) }))
  }
}

export interface ConfigProblem {
  /** Dotted path of the offending option, e.g. `retry.backoff.type`. */
  field: string
  message: string
}

/**
 * Why a connection was refused, when it is known. Each is a setup problem that retrying will not fix:
 * - `tls-untrusted-certificate`: the server's certificate is not signed by a CA the client trusts (`ca`);
 * - `tls-certificate-expired`: the server's certificate is expired or not yet valid;
 * - `tls-hostname-mismatch`: the server's certificate does not name the host connected to (`servername`);
 * - `tls-handshake`: any other TLS failure (TLS to a plain port, a client certificate the server refused…);
 * - `authentication`: the broker refused the user name or password;
 * - `permission-denied`: the user is known but not allowed (vhost, command, key or topic).
 */
export type ConnectionFailure =
  | 'tls-untrusted-certificate'
  | 'tls-certificate-expired'
  | 'tls-hostname-mismatch'
  | 'tls-handshake'
  | 'authentication'
  | 'permission-denied'

/**
 * The broker could not be reached, or the connection was lost: retryable. With a `reason` the broker
 * or the TLS handshake refused the connection: not retryable, and the message says which it was.
 */
export class ConnectionError extends AnymqError {
  readonly reason: ConnectionFailure | undefined
  constructor(message: string, options: AnymqErrorOptions & { reason?: ConnectionFailure } = {}) {
    super('ERR_CONNECTION', message, { retryable: options.reason === undefined, ...options })
    this.reason = options.reason
  }
}

/** The broker did not take a message (nack, unroutable, rejected). The message was not sent. */
export class PublishError extends AnymqError {
  constructor(
    message: string,
    options: AnymqErrorOptions & {
      code?: 'ERR_PUBLISH' | 'ERR_MESSAGE_TOO_LARGE'
    } = {},
  ) {
    super(options.code ?? 'ERR_PUBLISH', message, {
      retryable: true,
      ...options,
    })
  }
}

/** The encoded message is larger than the broker accepts. Raised before anything is sent. */
export class MessageTooLargeError extends PublishError {
  readonly sizeBytes: number
  readonly maxBytes: number
  constructor(sizeBytes: number, maxBytes: number, options: AnymqErrorOptions = {}) {
    super(
      `message of ${sizeBytes} bytes (body plus headers) is larger than the ${maxBytes} bytes this broker accepts; send a reference to the payload (claim check) or split it`,
      { ...options, code: 'ERR_MESSAGE_TOO_LARGE', retryable: false },
    )
    this.sizeBytes = sizeBytes
    this.maxBytes = maxBytes
  }
}

/** A body could not be encoded or decoded by the codec. Never retryable: the bytes will not change. */
export class SerializationError extends AnymqError {
  constructor(message: string, options: AnymqErrorOptions = {}) {
    super('ERR_SERIALIZATION', message, { ...options, retryable: false })
  }
}

export interface ValidationIssue {
  message: string
  path?: readonly PropertyKey[]
}

/** A body failed its schema, on send (nothing was sent) or on receive (the message is dead-lettered). */
export class ValidationError extends AnymqError {
  readonly issues: readonly ValidationIssue[]
  constructor(where: string, issues: readonly ValidationIssue[], options: AnymqErrorOptions = {}) {
    const detail = issues
      .slice(0, 5)
      .map((issue) => (issue.path && issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message))
      .join('; ')
    super('ERR_VALIDATION', `${where} failed its schema: ${detail}${issues.length > 5 ? ` (and ${issues.length - 5} more)` : ''}`, {
      ...options,
      retryable: false,
    })
    this.issues = issues
  }
}

/** No reply arrived within `timeoutMs`. The request may still be processed by the responder. */
export class RequestTimeoutError extends AnymqError {
  readonly timeoutMs: number
  constructor(destination: string, timeoutMs: number, options: AnymqErrorOptions = {}) {
    super('ERR_REQUEST_TIMEOUT', `no reply from '${destination}' within ${timeoutMs} ms`, { retryable: true, ...options })
    this.timeoutMs = timeoutMs
  }
}

/** The responder's handler threw; its error message travels back in the reply. */
export class RemoteError extends AnymqError {
  readonly remoteName: string
  constructor(destination: string, remoteName: string, remoteMessage: string, options: AnymqErrorOptions = {}) {
    super('ERR_REMOTE', `responder of '${destination}' failed: ${remoteName}: ${remoteMessage}`, { ...options, retryable: false })
    this.remoteName = remoteName
  }
}

/** The adapter cannot do what was asked. Names the feature and what to use instead; thrown at the call. */
export class UnsupportedFeatureError extends AnymqError {
  readonly feature: string
  constructor(adapter: string, feature: string, instead: string) {
    super('ERR_UNSUPPORTED_FEATURE', `${feature} is not supported by the ${adapter} adapter; ${instead}`, { adapter, retryable: false })
    this.feature = feature
  }
}

/** The connection, queue or subscription was closed before or during the call. */
export class ClosedError extends AnymqError {
  constructor(what: string, options: AnymqErrorOptions = {}) {
    super('ERR_CLOSED', `${what} is closed`, { ...options, retryable: false })
  }
}

/** The caller's AbortSignal fired. */
export class AbortedError extends AnymqError {
  /** `detail`: what the abort left behind (nothing sent; or handed over and maybe stored). */
  constructor(what: string, options: AnymqErrorOptions & { detail?: string } = {}) {
    const { detail, ...rest } = options
    super('ERR_ABORTED', `${what} was aborted${detail === undefined ? '' : `: ${detail}`}`, {
      ...rest,
      retryable: false,
    })
  }
}

/**
 * Throw from a handler to dead-letter the message at once, skipping the remaining retries:
 * for input that will never succeed however often it is tried.
 */
export class Unrecoverable extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options)
    this.name = 'Unrecoverable'
  }
}
