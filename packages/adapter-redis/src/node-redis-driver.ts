import { AbortedError, type Logger } from '@anymq/core/spi'
import { MultiErrorReply, RESP_TYPES } from '@redis/client'
import { argumentsOf } from './node-redis-arguments.js'
import { type NodeRedisClient as Client, resp2Client } from './node-redis-client.js'
import { FailoverWatch } from './node-redis-failover-watch.js'
import { AnswerWatchdog, answerTimeoutFor } from './redis-answer-watchdog.js'
import { BlockingReadWatchdog } from './redis-blocking-watchdog.js'
import type { ConnectionRole, RedisSettings } from './redis-config.js'
import { NoAnswerError, withinConnectTimeout } from './redis-connect-deadline.js'
import { describeServer, pause } from './redis-connection.js'
import { type CallOptions, offlineWaitMs, type RedisArgument, type RedisConnection, type RedisDriver } from './redis-driver.js'
import { connectionError, describeError, isConnectionProblem } from './redis-errors.js'

/** Bulk strings as Buffers: message bodies are bytes. */
const binaryReplies = { typeMapping: { [RESP_TYPES.BLOB_STRING]: Buffer } } as const

/** Subscribes `client` to one channel, its messages as Buffers. */
function subscribeOn(
  client: Client,
  { channel, sharded, listener }: { channel: string; sharded: boolean; listener: (payload: Buffer) => void },
): Promise<void> {
  return sharded ? client.SSUBSCRIBE(channel, listener, true) : client.SUBSCRIBE(channel, listener, true)
}

/** Asks the Sentinels, in order, where the primary `masterName` is now; applies `natMap`. */
async function findPrimary(settings: RedisSettings): Promise<{ host: string; port: number }> {
  let lastError: unknown = new Error('no sentinel configured')
  for (const sentinel of settings.sentinels ?? []) {
    const client = resp2Client({
      socket: { host: sentinel.host, port: sentinel.port, connectTimeout: settings.connectTimeoutMs, reconnectStrategy: false },
      disableClientInfo: true,
      maintNotifications: 'disabled',
    })
    client.on('error', () => {})
    try {
      // Bounded as a data node's connection is (see `attachOnce`): a silent Sentinel is skipped, not waited for.
      const asking = client.connect().then(() => client.sendCommand(['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', settings.masterName as string]))
      const reply = (await withinConnectTimeout(settings, asking, () => client.destroy())) as unknown as [string, string] | null
      if (reply === null) throw new Error(`sentinel ${sentinel.host}:${sentinel.port} does not know a primary named '${settings.masterName}'`)
      const announced = `${reply[0]}:${reply[1]}`
      return settings.natMap?.[announced] ?? { host: reply[0], port: Number(reply[1]) }
    } catch (error) {
      lastError = error
    } finally {
      client.destroy()
    }
  }
  throw lastError
}

/**
 * A connection on node-redis. node-redis reconnects to the address it was created with, which after a
 * Sentinel failover is the old primary; so each underlying client is single-use (no reconnect of its
 * own), and this connection replaces a lost one with a new client to the current primary, with backoff.
 */
class NodeRedisConnection implements RedisConnection {
  readonly batchesAsScript = false
  private client: Client | undefined
  private readonly readyListeners = new Set<() => void>()
  private waiters: Array<() => void> = []
  private reconnecting = false
  private closed = false
  /** Errors reported since the connection was last ready: each different one once per outage. */
  private readonly reported = new Set<string>()
  private readonly blocking: boolean
  /** Set when the server turned out to need no password (see {@link attach}). */
  private withoutPassword = false
  /** Bounds the blocking reads (one at a time on a blocking connection); see {@link sendBlocking}. */
  private readonly watchdog = new BlockingReadWatchdog<Client>((read, why) => this.lose(read.subject, why))
  /** Commands sent and not yet answered, and answers so far: the {@link answerWatchdog}'s view. */
  private owed = 0
  private answers = 0
  /** Bounds how long the command connection owes answers without getting any. */
  private readonly answerWatchdog: AnswerWatchdog
  /** Channels this connection listens to (`replies` role): subscribed again on each new client. */
  private readonly subscriptions: Array<{ channel: string; sharded: boolean; listener: (payload: Buffer) => void }> = []
  /** `host:port` of the primary the current client was connected to (Sentinel mode). */
  private primary: string | undefined
  /** Ends this connection's part in its settings' {@link FailoverWatch} (Sentinel mode). */
  private readonly unwatch: (() => void) | undefined

  constructor(
    private readonly settings: RedisSettings,
    private readonly role: ConnectionRole,
    private readonly logger: Logger,
    private readonly report: (error: Error) => void,
  ) {
    this.blocking = role !== 'commands'
    this.answerWatchdog = new AnswerWatchdog(
      answerTimeoutFor(settings, role),
      () => (this.owed > 0 ? this.answers : undefined),
      (why) => {
        if (this.client !== undefined) this.lose(this.client, why)
      },
    )
    if (settings.sentinels) this.unwatch = FailoverWatch.listen(settings, logger, (primary) => this.failedOver(primary))
  }

  /**
   * Sentinel named a new primary: a client still on the old one is dropped, so that what waits on a
   * primary that stopped answering fails over too (the command connection sends it again there).
   */
  private failedOver(primary: string): void {
    const client = this.client
    if (client === undefined || this.primary === primary) return
    this.lose(client, new Error(`Connection is closed: Sentinel failed '${this.settings.masterName}' over from ${this.primary} to ${primary}`))
  }

  get ready(): boolean {
    return this.client?.isReady === true
  }

  /** `signal`: the caller's connect signal, heeded while this first connection opens. */
  async start(signal?: AbortSignal): Promise<void> {
    try {
      this.client = await this.attach(signal)
    } catch (error) {
      // Nobody will close a connection that never opened: its watches end here.
      this.terminate()
      if (error instanceof AbortedError) throw error
      throw connectionError(`cannot connect to ${describeServer(this.settings)}`, error)
    }
  }

  call(args: readonly RedisArgument[], options?: CallOptions): Promise<unknown> {
    const client = this.client
    if (client?.isReady) return this.send(client, args, options, !this.blocking)
    return this.whenBack().then(() => this.call(args, options))
  }

  async transaction(commands: ReadonlyArray<readonly RedisArgument[]>): Promise<unknown[]> {
    let client = this.client
    if (!client?.isReady) {
      await this.whenBack()
      client = this.client as Client
    }
    const multi = client.multi()
    for (const command of commands) multi.addCommand(argumentsOf(command))
    this.owed++
    try {
      const replies = (await multi.exec()) as unknown[]
      this.answered()
      return replies
    } catch (error) {
      this.answered()
      // The first failed command's own error, as a single command would have raised it.
      if (error instanceof MultiErrorReply) throw error.replies[error.errorIndexes[0] as number] ?? error
      this.noteFailure(client, error)
      throw error
    }
  }

  async subscribe(channel: string, sharded: boolean, listener: (payload: Buffer) => void): Promise<void> {
    const subscription = { channel, sharded, listener }
    this.subscriptions.push(subscription)
    const client = this.client
    // Not ready: the client being connected subscribes before it counts as ready (see attachOnce).
    if (!client?.isReady) return
    try {
      await subscribeOn(client, subscription)
    } catch (error) {
      // Refused (an ACL without the channel): not subscribed again after a reconnect either.
      this.subscriptions.splice(this.subscriptions.indexOf(subscription), 1)
      throw error
    }
  }

  onReady(listener: () => void): () => void {
    this.readyListeners.add(listener)
    return () => this.readyListeners.delete(listener)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.unwatch?.()
    this.watchdog.stop()
    this.answerWatchdog.stop()
    this.wakeWaiters()
    const client = this.client
    this.client = undefined
    if (!client) return
    if (!client.isReady) {
      client.destroy()
      return
    }
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      client.close().catch(() => client.destroy()),
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          client.destroy()
          resolve()
        }, 2000)
      }),
    ])
    clearTimeout(timer)
  }

  terminate(): void {
    this.closed = true
    this.unwatch?.()
    this.watchdog.stop()
    this.answerWatchdog.stop()
    this.wakeWaiters()
    this.client?.destroy()
    this.client = undefined
  }

  private async send(client: Client, args: readonly RedisArgument[], options: CallOptions | undefined, resend: boolean): Promise<unknown> {
    if (options?.blockMs !== undefined) return this.sendBlocking(client, args, options.binary === true, options.blockMs)
    this.owed++
    try {
      const reply = await client.sendCommand(argumentsOf(args), options?.binary ? binaryReplies : undefined)
      this.answered()
      return reply
    } catch (error) {
      this.answered()
      this.noteFailure(client, error)
      // The command connection resends a command interrupted by a lost connection once, as ioredis'
      // autoResendUnfulfilledCommands does; blocking reads are never resent.
      if (resend && !this.closed && (isConnectionProblem(error) || String((error as Error).message).startsWith('READONLY'))) {
        await this.whenBack()
        const next = this.client as Client
        return this.send(next, args, options, false)
      }
      throw error
    }
  }

  /** Called before a resend waits for a new connection: a command waiting for one is owed by no socket. */
  private answered(): void {
    this.owed--
    this.answers++
  }

  /**
   * A blocking read, bounded on the client side by the connection's watchdog: one stalled on a dead socket
   * that never closed has its connection replaced and resolves `null`, as an empty read. (node-redis' own
   * `timeout` option arms an `AbortSignal.timeout` per command, which cannot be cleared: every read left a
   * timer behind that fired seconds later and built a `DOMException`, 5 % of a consumer's CPU profile.)
   */
  private async sendBlocking(client: Client, args: readonly RedisArgument[], binary: boolean, blockMs: number): Promise<unknown> {
    const read = this.watchdog.begin(client, blockMs)
    try {
      return await client.sendCommand(argumentsOf(args), binary ? binaryReplies : undefined)
    } catch (error) {
      if (read.stalled) return null
      this.noteFailure(client, error)
      throw error
    } finally {
      this.watchdog.end(read)
    }
  }

  /** A lost socket, or a primary demoted to a replica by a failover (READONLY): find the primary again. */
  private noteFailure(client: Client, error: unknown): void {
    if (String((error as Error)?.message).startsWith('READONLY') || !client.isReady) this.lose(client, error)
  }

  /** Waits until a new connection is ready; fails at once on a blocking connection or a closed one. */
  private whenBack(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('Connection is closed'))
    if (this.blocking) return Promise.reject(new Error('Connection is closed: reconnecting'))
    if (this.client?.isReady) return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter !== done)
        reject(new Error(`Connection is closed: ${describeServer(this.settings)} did not come back within ${offlineWaitMs} ms`))
      }, offlineWaitMs)
      const done = () => {
        clearTimeout(timer)
        if (this.client?.isReady) resolve()
        else reject(new Error('Connection is closed'))
      }
      this.waiters.push(done)
    })
  }

  private wakeWaiters(): void {
    const waiters = this.waiters
    this.waiters = []
    for (const waiter of waiters) waiter()
  }

  /**
   * Connects one client. A server without a password refuses AUTH ("called without any password
   * configured"); like ioredis, the connection then goes on without it, with a warning.
   */
  private async attach(signal?: AbortSignal): Promise<Client> {
    try {
      return await this.attachOnce(signal)
    } catch (error) {
      if (this.withoutPassword || this.settings.password === undefined || !/called without any password configured/.test(String((error as Error)?.message)))
        throw error
      this.withoutPassword = true
      this.logger.warn(`redis: ${describeServer(this.settings)} does not require a password, but one was supplied; connected without it`)
      return this.attachOnce(signal)
    }
  }

  private async attachOnce(signal?: AbortSignal): Promise<Client> {
    const { host, port } = this.settings.sentinels ? await findPrimary(this.settings) : this.settings
    const connectTimeout = this.settings.connectTimeoutMs
    const socket = this.settings.tls
      ? { ...this.settings.tls, tls: true as const, host, port, connectTimeout, reconnectStrategy: false as const }
      : { host, port, connectTimeout, reconnectStrategy: false as const }
    const client = resp2Client({
      socket,
      username: this.withoutPassword ? undefined : this.settings.username,
      password: this.withoutPassword ? undefined : this.settings.password,
      database: this.settings.db,
      name: this.settings.connectionName === undefined ? undefined : `${this.settings.connectionName}:${this.role}`,
      disableOfflineQueue: true,
      disableClientInfo: true,
      maintNotifications: 'disabled',
    })
    let failure: unknown
    client.on('error', (error: unknown) => {
      failure ??= error
      this.lose(client, error)
    })
    try {
      await withinConnectTimeout(this.settings, this.handshake(client, host, port), () => client.destroy(), signal)
    } catch (error) {
      client.destroy()
      throw error instanceof NoAnswerError ? error : (failure ?? error)
    }
    this.primary = `${host}:${port}`
    return client
  }

  /**
   * Connects `client` and has the server answer. node-redis' `connect()` resolves once the socket is
   * open when it has nothing to send first (no password, database 0, no name): a server requiring a
   * password, or one that never answers, would pass for connected until the first command. A PING
   * (ROLE through Sentinel) is refused with NOAUTH there, and is bounded by the caller.
   */
  private async handshake(client: Client, host: string, port: number): Promise<void> {
    await client.connect()
    if (this.settings.sentinels) {
      // Right after a failover a Sentinel may still name the old primary, now a replica.
      const [role] = (await client.sendCommand(['ROLE'])) as [string]
      if (role !== 'master') throw new Error(`READONLY ${host}:${port} is a ${role}, not the primary`)
    } else {
      await client.sendCommand(['PING'])
    }
    // node-redis would subscribe again after its own reconnect; this client is new, so the connection does.
    for (const subscription of this.subscriptions) await subscribeOn(client, subscription)
  }

  /** The current client failed: drop it and, unless closed, connect a new one. */
  private lose(client: Client, error: unknown): void {
    if (client !== this.client) return
    this.client = undefined
    if (client.isOpen) client.destroy()
    this.reportOnce(error)
    void this.reconnect()
  }

  private reportOnce(error: unknown): void {
    if (this.closed) return
    const text = describeError(error)
    if (this.reported.has(text)) return
    this.reported.add(text)
    this.report(connectionError(`${describeServer(this.settings)} (${this.role} connection), reconnecting`, error))
  }

  private async reconnect(): Promise<void> {
    if (this.reconnecting) return
    this.reconnecting = true
    const stopped = new AbortController()
    try {
      for (let attempt = 1; !this.closed; attempt++) {
        await pause(Math.min(50 * 2 ** Math.min(attempt, 6), 2000), stopped.signal)
        if (this.closed) return
        try {
          const client = await this.attach()
          if (this.closed) {
            client.destroy()
            return
          }
          this.client = client
          this.reported.clear()
          this.wakeWaiters()
          for (const listener of [...this.readyListeners]) listener()
          return
        } catch (error) {
          this.reportOnce(error)
        }
      }
    } finally {
      this.reconnecting = false
      if (this.closed) this.wakeWaiters()
    }
  }
}

/** The node-redis driver (`?driver=node-redis`, the default): @redis/client, the client of the `redis` package. */
export const nodeRedisDriver: RedisDriver = {
  name: 'node-redis',
  async open(settings, role, logger: Logger, report, signal) {
    const connection = new NodeRedisConnection(settings, role, logger, report ?? ((error) => logger.warn(error.message)))
    await connection.start(signal)
    return connection
  },
}
