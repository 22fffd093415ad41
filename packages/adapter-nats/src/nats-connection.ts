import { AbortedError, type ConnectionStateChange, type Logger } from '@anymq/core/spi'
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream'
import type { NatsConnection, NodeConnectionOptions } from '@nats-io/transport-node'
import type { NatsSettings } from './nats-config.js'
import { dialNats } from './nats-dial.js'
import { connectionError, describeError, publishAckTimeoutMs, refusalOf } from './nats-errors.js'

/** Servers for messages; never a user, password or token. */
export function describeServers(settings: NatsSettings): string {
  return `nats ${settings.servers.join(',')}`
}

/**
 * Connects and checks that JetStream is enabled. The client reconnects for ever (publishes wait in
 * its buffer meanwhile); each status change is logged once, without credentials. `signal` (the
 * caller's connect signal) drops the sockets being opened, or the connection still checking
 * JetStream, as soon as it fires; it is not heeded once this resolved.
 */
export async function openConnection(
  settings: NatsSettings,
  logger: Logger,
  reportState: (change: ConnectionStateChange) => void = () => {},
  signal?: AbortSignal,
): Promise<{ connection: NatsConnection; client: JetStreamClient; manager: JetStreamManager }> {
  // The dial signal follows the caller's only until this resolves: reconnects dial with it too.
  const dialing = new AbortController()
  const abort = () => dialing.abort()
  signal?.addEventListener('abort', abort, { once: true })
  try {
    const connection = await dial(settings, dialing.signal)
    return await checkJetStream(connection, settings, logger, reportState, dialing.signal)
  } finally {
    signal?.removeEventListener('abort', abort)
  }
}

async function dial(settings: NatsSettings, signal: AbortSignal): Promise<NatsConnection> {
  try {
    return await dialNats(
      {
        servers: settings.servers,
        user: settings.user,
        pass: settings.pass,
        token: settings.token,
        name: settings.connectionName,
        // The client hands these to Node's tls.connect as they are; its type only admits PEM strings (not Buffers).
        tls: settings.tls as NodeConnectionOptions['tls'],
        timeout: settings.connectTimeoutMs,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
        // Async stack traces make the client build two Errors per request (every publish and ackAck),
        // about 14 % of the consume path's CPU; anymq wraps each client error in its own typed error.
        noAsyncTraces: true,
      },
      signal,
    )
  } catch (error) {
    if (signal.aborted) throw new AbortedError('connect', { adapter: 'nats', cause: error })
    throw connectionError(`cannot connect to ${describeServers(settings)}`, error)
  }
}

async function checkJetStream(
  connection: NatsConnection,
  settings: NatsSettings,
  logger: Logger,
  reportState: (change: ConnectionStateChange) => void,
  signal: AbortSignal,
): Promise<{ connection: NatsConnection; client: JetStreamClient; manager: JetStreamManager }> {
  const close = () => void connection.close().catch(() => {})
  signal.addEventListener('abort', close, { once: true })
  try {
    if (signal.aborted) throw new AbortedError('connect', { adapter: 'nats' })
    const manager = await jetstreamManager(connection)
    const client = jetstream(connection, { timeout: publishAckTimeoutMs })
    void watchStatus(connection, settings, logger, reportState)
    return { connection, client, manager }
  } catch (error) {
    await connection.close().catch(() => {})
    if (signal.aborted) throw new AbortedError('connect', { adapter: 'nats', cause: error })
    // A user without permission for the JetStream API (or its reply inbox) is refused, not told to enable JetStream.
    if (refusalOf(error) !== undefined) throw connectionError(`cannot use JetStream on ${describeServers(settings)}`, error)
    throw connectionError(`JetStream is not available on ${describeServers(settings)} (start nats-server with -js)`, error)
  } finally {
    signal.removeEventListener('abort', close)
  }
}

/** Logs each status change and tells core of every loss (`disconnect`), reconnect attempt and recovery. */
async function watchStatus(
  connection: NatsConnection,
  settings: NatsSettings,
  logger: Logger,
  reportState: (change: ConnectionStateChange) => void,
): Promise<void> {
  try {
    for await (const status of connection.status()) {
      if (status.type === 'disconnect') {
        logger.warn(`[anymq] [nats] lost ${describeServers(settings)}, reconnecting`)
        reportState({ state: 'reconnecting', cause: new Error(`lost the connection to ${status.server}`) })
      } else if (status.type === 'reconnecting') reportState({ state: 'reconnecting' })
      else if (status.type === 'reconnect') {
        logger.info(`[anymq] [nats] reconnected to ${describeServers(settings)}`)
        reportState({ state: 'connected' })
      } else if (status.type === 'error') logger.warn(`[anymq] [nats] ${describeError((status as { error?: unknown }).error)}`)
    }
  } catch {
    // The status iterator ends when the connection closes.
  }
}
