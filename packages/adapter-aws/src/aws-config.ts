import type { ConnectionOptions as TlsOptions } from 'node:tls'
import {
  ConfigError,
  type ConfigProblem,
  either,
  type OptionShape,
  objectOf,
  ofType,
  parseUrlOptions,
  readTlsOptions,
  registerSecret,
  required,
  tlsUrlOptions,
  withMembers,
} from '@anymq/core/spi'
import type { SQSClientConfig } from '@aws-sdk/client-sqs'
import { adapterName } from './aws-errors.js'

/** Connection settings of `sqs://<region>?…`, every one validated up front. */
export interface AwsConfig {
  /** AWS region; from the URL host, else from AWS_REGION / the shared config. */
  region: string | undefined
  /** Custom endpoint for SQS and SNS (moto, LocalStack, ElasticMQ…); `undefined` = AWS. */
  endpoint: string | undefined
  /** Long-poll wait of ReceiveMessage, 0..20 s. Default 20. */
  waitTimeSeconds: number
  /**
   * Whether `mq.close()` waits for the long polls still at SQS (up to `waitTimeSeconds`), so that none takes a
   * message after the close. Default true; false aborts them (a faster close, but a message sent to the queue
   * within `waitTimeSeconds` may stay invisible for its visibility timeout).
   */
  closeWaitsForPolls: boolean
  /** Visibility timeout (lease) when `consume()` sets no `leaseMs`, kept alive by a heartbeat. Default 30 s. */
  visibilityTimeoutSeconds: number
  /** Concurrent ReceiveMessage calls per consumer of a standard queue (FIFO: up to 10). Default 1. */
  pollers: number
  /** Largest message accepted, at most SNS's 256 KiB. */
  maxMessageBytes: number
  /** `standard` (default): queues are standard queues, ordered ones FIFO. `fifo`: every queue is FIFO. */
  queueType: 'standard' | 'fifo'
  /** What a topic is: `sns` (default), an SNS topic; `eventbridge`, events on an EventBridge bus routed by rules. */
  topics: 'sns' | 'eventbridge'
  /** The EventBridge bus of `topics=eventbridge`; `default` (the account's default bus) unless set. */
  eventBus: string
  /** Explicit credentials or provider (`connect(url, { broker: { credentials } })`); default: the AWS provider chain. */
  credentials: unknown
  /** TLS settings of the https agent (`?ca=` or `broker.tls`): a private CA, a client certificate; `undefined` = Node's defaults. */
  tls: TlsOptions | undefined
}

/** Options of `connect('sqs://…', { broker: { … } })`. */
export interface AwsBrokerOptions {
  /** `{ accessKeyId, secretAccessKey, sessionToken? }` or a provider (`@aws-sdk/credential-providers`). Default: the SDK's provider chain. */
  credentials?: SQSClientConfig['credentials']
  /**
   * TLS settings for an https:// endpoint, passed to Node's https agent: `ca`, `cert`, `key` (PEM
   * text, Buffers or file paths), `servername`, `rejectUnauthorized`. The URL's `?ca=` etc. are the same.
   */
  tls?: TlsOptions
}

export const snsMaxMessageBytes = 262_144

export const urlOptions = {
  endpoint: { type: 'string', description: 'custom endpoint for SQS and SNS, e.g. http://127.0.0.1:4566 (moto, LocalStack)' },
  waitTimeSeconds: { type: 'integer', min: 0, max: 20, description: 'long-poll wait of ReceiveMessage (default 20)' },
  closeWaitsForPolls: {
    type: 'boolean',
    description:
      'mq.close() waits for the long polls still at SQS (default true); false aborts them: a faster close, but a message sent within waitTimeSeconds may stay invisible for its visibility timeout',
  },
  visibilityTimeout: { type: 'integer', min: 1, max: 43_200, description: 'default lease in seconds, renewed while a handler runs (default 30)' },
  pollers: { type: 'integer', min: 1, max: 10, description: 'concurrent receives per consumer of a standard queue (default 1: keeps best-effort order)' },
  maxMessageBytes: { type: 'integer', min: 1024, max: snsMaxMessageBytes, description: 'lower the size limit (default 262144)' },
  queueType: { type: 'enum', values: ['standard', 'fifo'], description: 'fifo: every queue is an SQS FIFO queue (dedupe, no delay)' },
  topics: { type: 'enum', values: ['sns', 'eventbridge'], description: 'topics as SNS topics (default) or as events on an EventBridge bus' },
  eventBus: { type: 'string', description: "EventBridge bus name for topics=eventbridge (default 'default'; any other is created when missing)" },
  ...tlsUrlOptions,
} as const

const brokerOptionChecks: OptionShape = {
  credentials: either(
    ofType('function', 'a credential provider function'),
    withMembers(
      { accessKeyId: required(ofType('string')), secretAccessKey: required(ofType('string')), sessionToken: ofType('string') },
      'credentials { accessKeyId, secretAccessKey, sessionToken? }',
    ),
  ),
  tls: ofType('object', 'an object of tls.connect options'),
}

/** Checks of `queue(name, { broker })` and `subscribe(…, { broker })`: the AWS adapter takes none. */
export const queueBrokerOptions: OptionShape = {}

const regionPattern = /^[a-z]{2}(-[a-z]+)+-\d+$/

export function parseConfig(url: URL, options: Readonly<Record<string, unknown>>): AwsConfig {
  const problems: ConfigProblem[] = []
  const parsed = parseUrlOptions(url, urlOptions, adapterName, problems)
  if (url.username || url.password) {
    problems.push({
      field: 'url',
      message:
        'credentials do not belong in the URL (it is logged and shown); use the AWS provider chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an IAM role) or connect(url, { broker: { credentials } })',
    })
  }
  const region = url.hostname || undefined
  if (region !== undefined && !regionPattern.test(region)) {
    problems.push({ field: 'url host', message: `'${region}' is not an AWS region; expected e.g. sqs://us-east-1` })
  }
  if (url.pathname && url.pathname !== '/' && url.pathname !== '') {
    problems.push({ field: 'url path', message: `'${url.pathname}' is not allowed; the URL is sqs://<region>?options` })
  }
  const eventBus = url.searchParams.get('eventBus')
  if (eventBus !== null && !/^[A-Za-z0-9._-]{1,256}$/.test(eventBus)) {
    problems.push({ field: 'url ?eventBus', message: `'${eventBus}' is not an EventBridge bus name (letters, digits, . _ -)` })
  }
  if (eventBus !== null && url.searchParams.get('topics') !== 'eventbridge') {
    problems.push({ field: 'url ?eventBus', message: 'only applies with ?topics=eventbridge' })
  }
  const endpointText = url.searchParams.get('endpoint')
  if (endpointText !== null) {
    let endpoint: URL | undefined
    try {
      endpoint = new URL(endpointText)
    } catch {
      endpoint = undefined
    }
    if (!endpoint || (endpoint.protocol !== 'http:' && endpoint.protocol !== 'https:')) {
      problems.push({ field: 'url ?endpoint', message: `'${endpointText}' is not an http:// or https:// URL` })
    }
  }
  objectOf(brokerOptionChecks)(options, 'broker', problems)
  const credentials = options.credentials
  // Secrets of explicit credentials are `***` in every anymq error and log line, even where the SDK echoes them.
  const given = options.credentials as { secretAccessKey?: unknown; sessionToken?: unknown } | undefined
  if (typeof given === 'object' && given !== null) {
    for (const secret of [given.secretAccessKey, given.sessionToken]) if (typeof secret === 'string') registerSecret(secret)
  }
  // A `tls` that is not an object is reported by the check above; here only its contents are read.
  const tlsObject = typeof options.tls === 'object' && options.tls !== null && !Array.isArray(options.tls) ? options.tls : undefined
  const tls = readTlsOptions(parsed, tlsObject, 'broker.tls', problems)
  if (tls !== undefined && parsed.endpoint?.startsWith('http:')) {
    problems.push({ field: 'broker.tls', message: 'TLS settings apply to an https:// endpoint; this one is http://' })
  }
  if (problems.length > 0) throw new ConfigError(problems, { adapter: adapterName })
  return {
    region,
    endpoint: parsed.endpoint,
    waitTimeSeconds: parsed.waitTimeSeconds ?? 20,
    closeWaitsForPolls: parsed.closeWaitsForPolls ?? true,
    visibilityTimeoutSeconds: parsed.visibilityTimeout ?? 30,
    pollers: parsed.pollers ?? 1,
    maxMessageBytes: parsed.maxMessageBytes ?? snsMaxMessageBytes,
    queueType: (parsed.queueType as 'standard' | 'fifo' | undefined) ?? 'standard',
    topics: (parsed.topics as 'sns' | 'eventbridge' | undefined) ?? 'sns',
    eventBus: parsed.eventBus ?? 'default',
    credentials,
    tls,
  }
}
