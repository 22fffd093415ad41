import { AbortedError, abortable, ClosedError, ConnectionError, type ConnectionStateChange, explainConnectionFailure, type Logger } from '@anymq/core/spi'
import { type ChannelModel, connect } from 'amqplib'
import type { RabbitmqConfig } from './rabbitmq-config.js'
import { adapterName, connectFailureOf, connectionError } from './rabbitmq-errors.js'
import { keepExactLongHeaders } from './rabbitmq-long-headers.js'
import { coalesceFrameWrites } from './rabbitmq-write-coalescing.js'

/** Something that lives on a connection and must be rebuilt when a lost connection comes back. */
export interface Recoverable {
  /** Called once a new connection is open; rebuild channels, topology and consumers on it. */
  recover(model: ChannelModel): Promise<void>
}

interface Waiter {
  resolve(model: ChannelModel): void
  reject(error: Error): void
}

/**
 * One AMQP connection that comes back by itself. Every 'error' and 'close' event of amqplib is
 * handled here; when the connection drops, it reconnects with exponential backoff and jitter and asks
 * everything registered with {@link register} to rebuild itself on the new connection.
 */
export class RabbitConnection {
  private model: ChannelModel | undefined
  private state: 'open' | 'reconnecting' | 'closed' = 'reconnecting'
  private waiters: Waiter[] = []
  private readonly recoverables = new Set<Recoverable>()
  private reconnectTimer: NodeJS.Timeout | undefined
  /** Index in `config.nodes` of the node to dial first. */
  private nextNode = 0
  /** Increases with every new connection; what was built on an older one is stale. */
  epoch = 0
  /** The version the broker of the current (or last) connection announced, e.g. `3.10.8`. */
  serverVersion: string | undefined

  private constructor(
    private readonly config: RabbitmqConfig,
    private readonly logger: Logger,
    private readonly reportState: (change: ConnectionStateChange) => void,
  ) {}

  /**
   * Opens the first connection; rejects with `ConnectionError` (never retried: the caller sees at once
   * that the broker is not there). `reportState` hears of every loss, reconnect attempt and recovery.
   * `signal` (the caller's connect signal) destroys a socket still opening at once.
   */
  static async open(
    config: RabbitmqConfig,
    logger: Logger,
    reportState: (change: ConnectionStateChange) => void = () => {},
    signal?: AbortSignal,
  ): Promise<RabbitConnection> {
    const connection = new RabbitConnection(config, logger, reportState)
    const model = await connection.dial(signal)
    connection.attach(model)
    return connection
  }

  get closed(): boolean {
    return this.state === 'closed'
  }

  /** The open connection, if there is one right now. */
  get current(): ChannelModel | undefined {
    return this.state === 'open' ? this.model : undefined
  }

  register(recoverable: Recoverable): () => void {
    this.recoverables.add(recoverable)
    return () => this.recoverables.delete(recoverable)
  }

  /**
   * The open connection; while reconnecting, waits up to `reconnectWaitMs` for it, then rejects with a
   * retryable `ConnectionError`. Rejects with `ClosedError` once closed.
   */
  ready(signal?: AbortSignal): Promise<ChannelModel> {
    if (this.state === 'open' && this.model) return Promise.resolve(this.model)
    if (this.state === 'closed') return Promise.reject(new ClosedError('the rabbitmq connection', { adapter: adapterName }))
    if (signal?.aborted) return Promise.reject(new AbortedError('the publish', { adapter: adapterName }))
    return new Promise<ChannelModel>((resolve, reject) => {
      const finish = () => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        this.waiters = this.waiters.filter((candidate) => candidate !== waiter)
      }
      const waiter: Waiter = {
        resolve: (model) => {
          finish()
          resolve(model)
        },
        reject: (error) => {
          finish()
          reject(error)
        },
      }
      const timer = setTimeout(
        () => waiter.reject(connectionError(`the connection to the broker is lost and did not come back within ${this.config.reconnectWaitMs} ms`)),
        this.config.reconnectWaitMs,
      )
      const onAbort = () => waiter.reject(new AbortedError('the publish', { adapter: adapterName }))
      signal?.addEventListener('abort', onAbort, { once: true })
      this.waiters.push(waiter)
    })
  }

  /** Closes gracefully: the broker requeues what consumers still hold. Idempotent. */
  async close(): Promise<void> {
    if (this.state === 'closed') return
    this.shutdown()
    const model = this.model
    this.model = undefined
    if (model) await withTimeout(model.close(), 5_000).catch(() => {})
  }

  /** Drops the socket without the AMQP close handshake, as a crashed process would. */
  terminate(): void {
    if (this.state === 'closed') return
    this.shutdown()
    const model = this.model
    this.model = undefined
    const stream = (model?.connection as unknown as { stream?: { destroy(): void } } | undefined)?.stream
    stream?.destroy()
  }

  private shutdown(): void {
    this.state = 'closed'
    clearTimeout(this.reconnectTimer)
    const error = new ClosedError('the rabbitmq connection', { adapter: adapterName })
    for (const waiter of [...this.waiters]) waiter.reject(error)
  }

  /**
   * Opens a connection to the node after the one last used, then to the others in turn: after a node
   * dies, the next dial goes elsewhere at once instead of waiting for the dead one to time out.
   */
  private async dial(signal?: AbortSignal): Promise<ChannelModel> {
    const nodes = this.config.nodes
    const failures: string[] = []
    let lastError: unknown
    for (let tried = 0; tried < nodes.length; tried++) {
      const node = nodes[(this.nextNode + tried) % nodes.length] as (typeof nodes)[number]
      if (signal?.aborted) throw new AbortedError('connect', { adapter: adapterName })
      try {
        const model = await this.dialOne(node, signal)
        this.nextNode = (this.nextNode + tried + 1) % nodes.length
        return model
      } catch (error) {
        if (error instanceof AbortedError) throw error
        lastError = error
        const { protocol, username, vhost } = this.config.connect
        const reason = connectFailureOf(error)
        const why =
          reason === undefined
            ? ''
            : `${explainConnectionFailure(reason)}${reason === 'permission-denied' ? ' (opening the vhost: no permission, or no such vhost)' : ''}; `
        failures.push(
          `${protocol}://${node.hostname}:${node.port} (vhost '${vhost}', user '${username}'): ${why}${error instanceof Error ? error.message : String(error)}`,
        )
      }
    }
    this.nextNode = (this.nextNode + 1) % nodes.length
    throw connectionError(`cannot connect to ${failures.join('; ')}`, lastError, connectFailureOf(lastError))
  }

  private async dialOne(node: { hostname: string; port: number }, signal?: AbortSignal): Promise<ChannelModel> {
    // A signal of its own for the socket, fired only while dialing: the caller's may fire long after
    // the connection opened, and must not cut it then.
    const dialing = signal && new AbortController()
    const abort = () => dialing?.abort()
    signal?.addEventListener('abort', abort, { once: true })
    const socket = dialing ? { ...this.config.socket, signal: dialing.signal } : this.config.socket
    const pending = connect({ ...this.config.connect, hostname: node.hostname, port: node.port }, socket)
    try {
      return await abortable(withTimeout(pending, this.config.connectTimeoutMs), dialing?.signal, 'connect', adapterName)
    } catch (error) {
      // A connection that opens after the timeout must not linger.
      pending.then(
        (late) => late.close().catch(() => {}),
        () => {},
      )
      throw error
    } finally {
      signal?.removeEventListener('abort', abort)
    }
  }

  private attach(model: ChannelModel): void {
    this.model = model
    this.state = 'open'
    this.epoch++
    const version = model.connection.serverProperties?.version
    this.serverVersion = typeof version === 'string' ? version : undefined
    // Without an 'error' listener an emitted error would crash the process; 'close' follows it.
    model.on('error', (error: Error) => this.logger.warn(`rabbitmq connection error: ${error.message}`))
    model.on('handler-error', (error: Error) => this.logger.error(`rabbitmq: a connection event handler threw: ${error.message}`))
    model.on('blocked', (reason: string) => this.logger.warn(`rabbitmq broker blocked publishing: ${reason}`))
    model.on('unblocked', () => this.logger.info('rabbitmq broker unblocked publishing'))
    keepExactLongHeaders(model.connection)
    coalesceFrameWrites(model.connection)
    // A socket closed without 'end' or 'error' (destroyed locally) would leave amqplib unaware until
    // heartbeats time out, with confirms outstanding; tell it at once. A no-op after a normal close.
    const internals = model.connection as unknown as { stream?: NodeJS.EventEmitter; onSocketError?: (error: Error) => void }
    internals.stream?.once('close', () => {
      if (typeof internals.onSocketError === 'function') internals.onSocketError.call(internals, new Error('socket closed'))
    })
    model.on('close', (error?: Error) => {
      if (this.model !== model || this.state === 'closed') return
      this.model = undefined
      this.state = 'reconnecting'
      this.logger.warn(`rabbitmq connection lost${error ? `: ${error.message}` : ''}; reconnecting`)
      this.reportState({ state: 'reconnecting', cause: error ?? new Error('the broker closed the connection') })
      this.scheduleReconnect(1)
    })
    for (const waiter of [...this.waiters]) waiter.resolve(model)
  }

  private scheduleReconnect(attempt: number): void {
    if (this.state === 'closed') return
    const base = Math.min(this.config.reconnectMaxDelayMs, this.config.reconnectInitialDelayMs * 2 ** (attempt - 1))
    const delayMs = Math.round(base * (0.8 + Math.random() * 0.4))
    this.reconnectTimer = setTimeout(() => void this.reconnect(attempt), delayMs)
  }

  private async reconnect(attempt: number): Promise<void> {
    if (this.state === 'closed') return
    let model: ChannelModel
    try {
      model = await this.dial()
    } catch (error) {
      this.logger.debug(`rabbitmq reconnect attempt ${attempt} failed: ${(error as Error).message}`)
      this.reportState({ state: 'reconnecting', cause: error as Error })
      this.scheduleReconnect(attempt + 1)
      return
    }
    // close() may have run while dialling.
    if (this.closed) {
      await model.close().catch(() => {})
      return
    }
    this.attach(model)
    this.logger.info(`rabbitmq reconnected after ${attempt} attempt(s)`)
    this.reportState({ state: 'connected' })
    await Promise.all(
      [...this.recoverables].map((recoverable) =>
        recoverable.recover(model).catch((error: Error) => this.logger.error(`rabbitmq: recovery after reconnect failed: ${error.message}`)),
      ),
    )
  }
}

/**
 * Runs an idempotent operation (attaching a consumer, peeking), and runs it again when a connection
 * lost midway made it fail, for as long as a publish would wait for the connection to come back.
 */
export async function retryWhileReconnecting<T>(connection: RabbitConnection, waitMs: number, work: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + waitMs
  for (let attempt = 1; ; attempt++) {
    try {
      return await work()
    } catch (error) {
      if (!(error instanceof ConnectionError) || connection.closed || Date.now() > deadline) throw error
      await new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 50 * 2 ** attempt)))
    }
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}
