import { AnymqError, ConnectionError, type ConnectionFailure, errorsIn, explainConnectionFailure, PublishError, tlsFailureOf } from '@anymq/core/spi'

const adapter = 'kafka'

interface ClientError {
  name?: string
  message?: string
  type?: string
  retriable?: boolean
  cause?: unknown
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
    if (authenticationErrorNames.has(current.name ?? '') || current.type === 'SASL_AUTHENTICATION_FAILED') return 'authentication'
    if (current.type && authorizationTypes.has(current.type)) return 'permission-denied'
  }
  return undefined
}

/** The innermost cause of a client error, where the useful text is. */
function rootOf(error: unknown): ClientError {
  let current = error as ClientError
  for (let depth = 0; depth < 5 && current?.cause && typeof current.cause === 'object'; depth++) current = current.cause as ClientError
  return current ?? {}
}

function describe(error: unknown): string {
  const outer = error as ClientError
  const root = rootOf(error)
  const text = root.message ?? outer?.message ?? String(error)
  return root.type ? `${text} (${root.type})` : text
}

/** Wraps any client error as a typed anymq error; anymq errors pass through unchanged. */
export function wrapError(error: unknown, what: string, kind: 'connection' | 'publish' = 'connection'): AnymqError {
  if (AnymqError.isInstance(error)) return error
  const outer = (error ?? {}) as ClientError
  const root = rootOf(error)
  const name = outer.name ?? ''
  const reason = refusalOf(error)
  if (reason) return new ConnectionError(`${what}: ${explainConnectionFailure(reason)}; ${describe(error)}`, { adapter, cause: error, reason })
  const retryable = connectionErrorNames.has(name) || connectionErrorNames.has(root.name ?? '') || root.retriable === true || outer.retriable === true
  if (kind === 'publish') {
    const tooLarge = root.type === 'MESSAGE_TOO_LARGE' || root.type === 'RECORD_LIST_TOO_LARGE'
    return new PublishError(`${what}: ${describe(error)}`, { adapter, cause: error, retryable: retryable && !tooLarge })
  }
  return new ConnectionError(`${what}: ${describe(error)}`, { adapter, cause: error, retryable })
}

const transientTypes = new Set([
  'UNKNOWN_TOPIC_OR_PARTITION',
  'NOT_LEADER_FOR_PARTITION',
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
    if (current.type && transientTypes.has(current.type)) return true
    if (current.name === 'KafkaJSTopicMetadataNotLoaded' || current.name === 'KafkaJSMetadataNotLoaded') return true
    current = (current.cause ?? undefined) as ClientError | undefined
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
