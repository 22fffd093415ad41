import { AbortedError, type AdapterFactory, type Capabilities, ConnectionStateTracker } from '@anymq/core/spi'
import { PubSub, v1 } from '@google-cloud/pubsub'
import { readSettings } from './gcp-pubsub-config.js'
import { maxDeadlineSeconds } from './gcp-pubsub-consumer.js'
import { connectionError } from './gcp-pubsub-errors.js'
import { checkReachable } from './gcp-pubsub-reachability.js'
import { PubSubTransport } from './gcp-pubsub-transport.js'

/**
 * What the Pub/Sub adapter does. Ack deadlines are the leases (`modifyAckDeadline` sets and extends
 * them, whole seconds up to 600); a delayed message is stored at once and put back with its deadline
 * set to the time left, so delays reach 600 s; ordering keys give per-key order across consumers;
 * subscription filters are evaluated by the consumer.
 */
export const capabilities: Capabilities = {
  delay: { maxMs: maxDeadlineSeconds * 1000 },
  ordering: 'key',
  priority: false,
  expiry: 'emulated',
  dedupe: false,
  persistence: true,
  replay: false,
  nativeDeadLetter: false,
  // The service's 10 MB limit, less room for attributes.
  maxMessageBytes: 9 * 1_048_576,
  leaseExpiry: true,
  leaseExtension: true,
  topicFilters: { subject: true, headers: true },
  // No counts in Pub/Sub's API (Cloud Monitoring has them); purge is a seek, dead letters by id a pull.
  admin: { stats: false, purge: true, delete: true, list: true, deadLetterById: true },
}

/**
 * `gcp-pubsub://project-id`. URL options: `?endpoint=host:port` (an emulator; `PUBSUB_EMULATOR_HOST`
 * works too), `?prefix=anymq`, `?ackDeadlineSeconds=30`, `?maxPull=100`, `?maxPublishBytes=4000000`,
 * `?connectTimeoutMs=10000`.
 * Broker options: `{ keyFilename }` or `{ credentials }` (a service-account key object); otherwise
 * Application Default Credentials.
 */
export const adapter: AdapterFactory = {
  name: 'gcp-pubsub',
  schemes: ['gcp-pubsub'],
  messagingSystem: 'gcp_pubsub',
  capabilities,
  async connect(url, context) {
    const settings = readSettings(url, context.options)
    const pubsub = new PubSub({
      projectId: settings.projectId,
      apiEndpoint: settings.endpoint,
      keyFilename: settings.keyFilename,
      credentials: settings.credentials,
    })
    const { port, ...rest } = await pubsub.getClientConfig()
    // On an emulator no credentials are used; naming the universe keeps gax from looking for one through
    // Application Default Credentials, which probes the GCE metadata server (169.254.169.254) on every connect.
    const config = { ...rest, port: port === undefined ? undefined : Number(port), ...(pubsub.isEmulator ? { universeDomain: 'googleapis.com' } : {}) }
    if (!pubsub.isEmulator) {
      // Looked up before any gax client exists: a gax stub whose credentials fail rejects promises
      // nobody holds (unhandled rejections in the user's process), whatever the caller catches.
      try {
        await pubsub.auth.getClient()
      } catch (error) {
        await pubsub.close().catch(() => {})
        throw connectionError(
          `no Google credentials for project '${settings.projectId}': set Application Default Credentials (GOOGLE_APPLICATION_CREDENTIALS), broker.keyFilename or broker.credentials, or ?endpoint= for an emulator`,
          error,
        )
      }
    }
    const publisher = new v1.PublisherClient(config)
    const subscriber = new v1.SubscriberClient(config)
    try {
      await checkReachable(publisher, settings.projectId, settings.connectTimeoutMs, context.signal)
    } catch (error) {
      await Promise.allSettled([publisher.close(), subscriber.close(), pubsub.close()])
      if (context.signal?.aborted) throw new AbortedError('connect', { adapter: 'gcp-pubsub', cause: error })
      throw connectionError(`connecting to Pub/Sub for project '${settings.projectId}'${settings.endpoint ? ` at ${settings.endpoint}` : ''}`, error)
    }
    await pubsub.close()
    return new PubSubTransport(publisher, subscriber, settings, context.capabilities, new ConnectionStateTracker(context.reportConnectionState), context.logger)
  },
}
