import {
  AnymqError,
  ConfigError,
  ConnectionError,
  type ConnectionFailure,
  errorsIn,
  explainConnectionFailure,
  PublishError,
  tlsFailureOf,
} from '@anymq/core/spi'

const adapter = 'kafka'

/** What kafkajs (name, type, retriable) and @platformatic/kafka (code, apiId, canRetry, errors) put on their errors. */
interface ClientError {
  name?: string
  message?: string
  type?: string
  retriable?: boolean
  code?: string
  apiId?: string
  canRetry?: boolean
  errors?: unknown[]
  cause?: unknown
  /** @platformatic/kafka: the broker's own words for a protocol error. */
  serverErrorMessage?: string | null
}

const connectionErrorNames = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSLockTimeout',
  'KafkaJSGroupCoordinatorNotFound',
  'KafkaJSNumberOfRetriesExceeded',
])

const authenticationErrorNames = new Set(['KafkaJSSASLAuthenticationError', 'KafkaJSAuthenticationError'])

// Error codes of the Kafka protocol that say the user is known but lacks an ACL.
const authorizationTypes = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'DELEGATION_TOKEN_AUTHORIZATION_FAILED',
])

/** A refusal rather than an outage, anywhere in the cause chain: TLS, SASL, or a missing ACL. */
function refusalOf(error: unknown): ConnectionFailure | undefined {
  const tls = tlsFailureOf(error)
  if (tls) return tls
  for (const current of errorsIn(error) as ClientError[]) {
    if (authenticationErrorNames.has(current.name ?? '') || typeOf(current) === 'SASL_AUTHENTICATION_FAILED' || current.code === 'PLT_KFK_AUTHENTICATION')
      return 'authentication'
    const type = typeOf(current)
    if (type && authorizationTypes.has(type)) return 'permission-denied'
  }
  return undefined
}

const connectionErrorCodes = new Set(['PLT_KFK_NETWORK', 'PLT_KFK_TIMEOUT'])

// Node's socket and DNS codes for a broker that is down, unreachable, or dropped the connection.
// ENOTFOUND too: both clients retry it, and a broker's name resolves only once its container is up.
const networkErrorCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
])

/**
 * A network-level failure anywhere inside `error`. @platformatic/kafka puts the NetworkError (and
 * Node's ECONNREFUSED under it) in the middle, `metadata failed 6 times` › `Cannot connect to any
 * broker` › NetworkError › ECONNREFUSED, where neither the outer error nor the innermost cause says so.
 * Refusals (TLS, SASL, ACLs) are told apart before this is asked.
 */
function outageIn(error: unknown): boolean {
  for (const current of errorsIn(error) as ClientError[]) {
    const code = current.code ?? ''
    if (connectionErrorNames.has(current.name ?? '') || connectionErrorCodes.has(code) || networkErrorCodes.has(code)) return true
  }
  return false
}

/**
 * The broker's INVALID_TOPIC_EXCEPTION anywhere inside `error`: a topic name it will never take (one
 * differing from an existing topic only in '.' and '_', or too long). The broker's words when it gave any.
 */
function invalidTopicIn(error: unknown): { detail: string } | undefined {
  for (const current of errorsIn(error) as ClientError[]) {
    if (typeOf(current) === 'INVALID_TOPIC_EXCEPTION') return { detail: current.serverErrorMessage || current.message || 'INVALID_TOPIC_EXCEPTION' }
  }
  return undefined
}

/** The next error inside: the cause, or the first of an aggregate (@platformatic/kafka's MultipleErrors). */
function innerOf(error: ClientError): ClientError | undefined {
  if (error.cause && typeof error.cause === 'object') return error.cause as ClientError
  const first = Array.isArray(error.errors) ? error.errors[0] : undefined
  return first && typeof first === 'object' ? (first as ClientError) : undefined
}

/** The Kafka protocol error name (UNKNOWN_TOPIC_OR_PARTITION…) as either client reports it. */
function typeOf(error: ClientError): string | undefined {
  return error.type ?? error.apiId
}

/** The innermost cause of a client error, where the useful text is. */
function rootOf(error: unknown): ClientError {
  let current = error as ClientError
  for (let depth = 0; depth < 5 && current; depth++) {
    const inner = innerOf(current)
    if (!inner) break
    current = inner
  }
  return current ?? {}
}

function describe(error: unknown): string {
  const outer = error as ClientError
  const root = rootOf(error)
  const text = root.message ?? outer?.message ?? String(error)
  const type = typeOf(root)
  return type ? `${text} (${type})` : text
}

/** Wraps any client error as a typed anymq error; anymq errors pass through unchanged. */
export function wrapError(error: unknown, what: string, kind: 'connection' | 'publish' = 'connection'): AnymqError {
  if (AnymqError.isInstance(error)) return error
  const outer = (error ?? {}) as ClientError
  const root = rootOf(error)
  const name = outer.name ?? ''
  const reason = refusalOf(error)
  if (reason) return new ConnectionError(`${what}: ${explainConnectionFailure(reason)}; ${describe(error)}`, { adapter, cause: error, reason })
  // A bad name, not an outage: the same call fails the same way every time.
  const invalidTopic = invalidTopicIn(error)
  if (invalidTopic)
    return new ConfigError(
      [
        {
          field: what,
          message: `Kafka refused the topic name (${invalidTopic.detail}); Kafka counts '.' and '_' in topic names as the same character, so 'a.b' and 'a_b' cannot both exist: pick a name that differs from the existing one in another way`,
        },
      ],
      { adapter, cause: error },
    )
  const retryable =
    connectionErrorNames.has(name) ||
    connectionErrorNames.has(root.name ?? '') ||
    connectionErrorCodes.has(outer.code ?? '') ||
    connectionErrorCodes.has(root.code ?? '') ||
    root.retriable === true ||
    outer.retriable === true ||
    root.canRetry === true ||
    outageIn(error)
  if (kind === 'publish') {
    const tooLarge = typeOf(root) === 'MESSAGE_TOO_LARGE' || typeOf(root) === 'RECORD_LIST_TOO_LARGE'
    return new PublishError(`${what}: ${describe(error)}`, { adapter, cause: error, retryable: retryable && !tooLarge })
  }
  return new ConnectionError(`${what}: ${describe(error)}`, { adapter, cause: error, retryable })
}

const transientTypes = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'NOT_LEADER_FOR_PARTITION',
  'NOT_LEADER_OR_FOLLOWER',
  'LEADER_NOT_AVAILABLE',
  'COORDINATOR_LOAD_IN_PROGRESS',
  'COORDINATOR_NOT_AVAILABLE',
  'NOT_COORDINATOR',
  'NOT_COORDINATOR_FOR_GROUP',
  'REBALANCE_IN_PROGRESS',
  'GROUP_COORDINATOR_NOT_AVAILABLE',
  'GROUP_LOAD_IN_PROGRESS',
])

/** Errors a just-created topic or a moving coordinator produce for a moment; worth trying again. */
export function isTransient(error: unknown): boolean {
  let current = error as ClientError | undefined
  for (let depth = 0; depth < 6 && current; depth++) {
    const type = typeOf(current)
    if (type && transientTypes.has(type)) return true
    if (current.name === 'KafkaJSTopicMetadataNotLoaded' || current.name === 'KafkaJSMetadataNotLoaded') return true
    // @platformatic/kafka reports UNKNOWN_TOPIC_OR_PARTITION from a metadata request as a plain user error.
    if (current.code === 'PLT_KFK_USER' && current.message?.startsWith('Unknown topic ')) return true
    current = innerOf(current)
  }
  return false
}

/** Runs `work`, trying again on transient errors for up to `budgetMs`. */
export async function retryTransient<T>(work: () => Promise<T>, budgetMs = 15_000): Promise<T> {
  const deadline = Date.now() + budgetMs
  let wait = 100
  for (;;) {
    try {
      return await work()
    } catch (error) {
      if (!isTransient(error) || Date.now() + wait > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, wait))
      wait = Math.min(1_000, wait * 2)
    }
  }
}
