import { isUtf8 } from 'node:buffer'
import type { Socket } from 'node:net'
import { AbortedError, type Logger } from '@anymq/core/spi'
import { Command, Redis, type RedisOptions } from 'ioredis'
import { reportFailoverDetectorErrors } from './ioredis-failover-detector.js'
import { AnswerWatchdog, answerTimeoutFor } from './redis-answer-watchdog.js'
import { BlockingReadWatchdog } from './redis-blocking-watchdog.js'
import type { ConnectionRole, RedisSettings } from './redis-config.js'
import { NoAnswerError, withinConnectTimeout } from './redis-connect-deadline.js'
import { describeServer } from './redis-connection.js'
import { routeIoredisWarnings } from './redis-console-warnings.js'
import { type CallOptions, offlineWaitMs, type RedisArgument, type RedisConnection, type RedisDriver } from './redis-driver.js'
import { connectionError, describeError } from './redis-errors.js'

/**
 * ioredis options for one role. The command connection queues commands while reconnecting (a send
 * during a Redis restart waits instead of failing at once); it does not auto-pipeline (see `call`). Blocking
 * connections never resend an interrupted read (a stale blocking read after a reconnect can hang:
 * ioredis #1285, #1888); the connection bounds each blocking read itself (a watchdog, see
 * `IoredisConnection.sendBlocking`), not through ioredis' `blockingTimeout`.
 */
export function ioredisOptions(settings: RedisSettings, role: ConnectionRole): RedisOptions {
  const blocking = role !== 'commands'
  const where: RedisOptions = settings.sentinels
    ? {
        sentinels: settings.sentinels,
        name: settings.masterName,
        natMap: settings.natMap,
        role: 'master',
        enableTLSForSentinelMode: settings.tls !== undefined,
        sentinelRetryStrategy: (times) => Math.min(100 * times, 1000),
        // reconnect at once when Sentinel announces a new primary, not when the old socket times out
        failoverDetector: true,
      }
    : { host: settings.host, port: settings.port }
  return {
    ...where,
    // After a failover the old primary comes back as a replica; a connection that still reaches it
    // must go and find the new primary, and resend the refused write there.
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
    username: settings.username,
    password: settings.password,
    db: settings.db,
    tls: settings.tls,
    protocol: 2,
    lazyConnect: true,
    connectTimeout: settings.connectTimeoutMs,
    connectionName: settings.connectionName === undefined ? undefined : `${settings.connectionName}:${role}`,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), 2000),
    maxRetriesPerRequest: blocking ? 0 : 10,
    enableOfflineQueue: !blocking,
    autoResendUnfulfilledCommands: !blocking,
    enableAutoPipelining: false,
    // How long ioredis' disconnect() waits for the socket to close after ending it. It is called only on
    // a client that is not ready or did not answer QUIT, where nothing is left to flush; and when the
    // socket had already closed (a refused password while ioredis was about to reconnect) nothing clears
    // its timer, which held the process for the default 2 s after connect() had rejected.
    disconnectTimeout: 200,
  }
}

/** Reply options of ioredis' `Command`: bulk strings as strings, or as Buffers (message bodies). */
const textReplies = { replyEncoding: 'utf8' } as const
const binaryReplies = { replyEncoding: null } as const

/** ioredis' name of a command (`xadd` for `XADD`), computed once per command name. */
const lowerNames = new Map<string, string>()
function lowerName(command: string): string {
  let name = lowerNames.get(command)
  if (name === undefined) {
    name = command.toLowerCase()
    lowerNames.set(command, name)
  }
  return name
}

/**
 * One argument of a `MULTI`'s command. A Buffer among a pipeline's arguments puts ioredis in its
 * buffer mode, which copies the command twice (into one Buffer, then into the pipeline's); a Buffer
 * holding valid UTF-8 (every JSON or text body) is passed as its string, which ioredis writes back as
 * the very same bytes. Other Buffers (binary bodies) stay Buffers.
 */
function batchedArgument(value: RedisArgument): RedisArgument {
  return value instanceof Buffer && value.byteLength > 0 && isUtf8(value) ? value.toString() : value
}

/** A command for `multi([...])`: ioredis names a batched command by its method (`xadd`, not `XADD`); one array, no spread. */
function batchedCommand(args: readonly RedisArgument[]): [string, ...RedisArgument[]] {
  const command = new Array<RedisArgument>(args.length) as [string, ...RedisArgument[]]
  command[0] = lowerName(String(args[0]))
  for (let index = 1; index < args.length; index++) command[index] = batchedArgument(args[index] as RedisArgument)
  return command
}

/** What of ioredis' internals {@link failWaitingCommands} reaches (ioredis 6; each looked up before use). */
interface IoredisQueues {
  flushQueue?: (error: Error) => void
  prevCommandQueue?: { shift(): { command: { reject(error: Error): void } } | undefined } | null
}

/**
 * Rejects every command the client holds: those waiting for a connection, those of the handshake under
 * way, and those a lost socket owed, which ioredis would send again once connected.
 */
function failWaitingCommands(client: Redis, why: Error): void {
  const queues = client as unknown as IoredisQueues
  const owed = queues.prevCommandQueue
  for (let item = owed?.shift(); item !== undefined; item = owed?.shift()) item.command.reject(why)
  queues.flushQueue?.(why)
}

/** Commands a corked socket holds before they are written, not waiting for the end of the tick. */
const commandsPerCorkedWrite = 8

/** A connection on ioredis. */
class IoredisConnection implements RedisConnection {
  /** Bounds the blocking reads (one at a time on a blocking connection); see {@link sendBlocking}. */
  private readonly watchdog = new BlockingReadWatchdog<undefined>(() => {
    // Rejects the read under way (blocking connections resend nothing) and connects again.
    this.client.disconnect(true)
  })
  /** The socket corked until `process.nextTick`, if any ({@link corkUntilNextTick}). */
  private corked: Socket | undefined
  /** Commands written into the corked socket since it was corked or last written. */
  private corkedCommands = 0
  private readonly uncork = () => {
    const socket = this.corked
    this.corked = undefined
    socket?.uncork()
  }

  readonly batchesAsScript = true

  /** Set by `close()` and `terminate()`: from then on an ended client stays ended ({@link reviveWhenEnded}). */
  closing = false

  /**
   * Bounds how long the command connection owes answers without getting any: the oldest command ioredis
   * waits an answer for (its ready check too, on a socket that connected to a silent server) stays the
   * same. Dropping the socket makes ioredis connect again and send those commands once more.
   */
  private readonly answerWatchdog: AnswerWatchdog
  /** When the watchdog first found the server silent, since the connection was last ready. */
  private silentSince: number | undefined

  constructor(
    private readonly client: Redis,
    answerTimeoutMs: number,
    report: (error: Error) => void,
  ) {
    this.answerWatchdog = new AnswerWatchdog(
      answerTimeoutMs,
      () => client.commandQueue.peekFront(),
      (why) => {
        report(why)
        const now = Date.now()
        this.silentSince ??= now
        // New sockets' handshakes got no answer either, for as long as a command may wait for a connection:
        // what waits fails now (a retryable ConnectionError), not after ioredis' 10 reconnects, each this long.
        if (client.status !== 'ready' && now - this.silentSince >= offlineWaitMs)
          failWaitingCommands(client, new Error(`Connection is closed: Redis answered nothing for ${now - this.silentSince} ms, on new sockets either`))
        client.disconnect(true)
      },
    )
    client.on('ready', () => {
      this.silentSince = undefined
    })
  }

  get ready(): boolean {
    return this.client.status === 'ready'
  }

  /**
   * A `Command` handed to `sendCommand`: not ioredis' auto-pipelining (a pipeline, its promise and a
   * callback per command, sent a `setImmediate` later, one pipeline on the wire at a time) nor its
   * generated methods (an options object and an argument spread per call). Buffers stay Buffers: outside
   * a pipeline, ioredis' buffer mode copies a command once, where a body's string would be decoded,
   * measured and encoded again.
   */
  call(args: readonly RedisArgument[], options?: CallOptions): Promise<unknown> {
    const command = new Command(
      lowerName(args[0] as string),
      args.slice(1),
      options?.binary === true || options?.blockMs !== undefined ? binaryReplies : textReplies,
    )
    if (options?.blockMs === undefined) {
      this.corkUntilNextTick()
      const reply = this.client.sendCommand(command) as Promise<unknown>
      if (++this.corkedCommands >= commandsPerCorkedWrite) this.writeCorked()
      return reply
    }
    return this.sendBlocking(command, options.blockMs)
  }

  /**
   * A blocking read, bounded on the client side by the connection's watchdog: one stalled on a dead socket
   * that never closed has its connection dropped and made anew, and resolves `null`, as an empty read.
   * ioredis' own `blockingTimeout` is not used: it resolved a read with a BLOCK at BLOCK + 1 s, too early
   * for a check that was to replace the socket, so the socket was kept and the stalled read's answer stayed
   * owed on it (the next command got it, or hung).
   */
  private sendBlocking(command: Command, blockMs: number): Promise<unknown> {
    const read = this.watchdog.begin(undefined, blockMs)
    return (this.client.sendCommand(command) as Promise<unknown>).then(
      (reply) => {
        this.watchdog.end(read)
        return reply
      },
      (error: unknown) => {
        this.watchdog.end(read)
        if (read.stalled) return null
        throw error
      },
    )
  }

  /**
   * Corks the socket until `process.nextTick`: the commands the code running now sends (a window of
   * publishes, a turn's `XACK` and `XDEL`) leave in writes of {@link commandsPerCorkedWrite}, not one
   * write per command, as auto-pipelining batched them without its cost per command. Commands sent from
   * promise reactions after that go out corked anew.
   */
  private corkUntilNextTick(): void {
    if (this.corked !== undefined || this.client.status !== 'ready') return
    const socket = this.client.stream as Socket
    socket.cork()
    this.corked = socket
    this.corkedCommands = 0
    process.nextTick(this.uncork)
  }

  /**
   * Writes what the corked socket holds and keeps it corked: Redis starts on the first commands of a
   * long run (a window of replies answered with new sends) while the rest are still being made, where
   * one write at the end of the run kept it idle until then.
   */
  private writeCorked(): void {
    const socket = this.corked
    if (socket === undefined) return
    socket.uncork()
    socket.cork()
    this.corkedCommands = 0
  }

  async transaction(commands: ReadonlyArray<readonly RedisArgument[]>): Promise<unknown[]> {
    const results = await this.client.multi(commands.map(batchedCommand)).exec()
    if (results === null) throw new Error('the transaction was aborted')
    const replies: unknown[] = []
    for (const [error, reply] of results) {
      if (error) throw error
      replies.push(reply)
    }
    return replies
  }

  /** ioredis subscribes again by itself after a reconnect (`autoResubscribe`, on by default). */
  async subscribe(channel: string, sharded: boolean, listener: (payload: Buffer) => void): Promise<void> {
    const name = Buffer.from(channel)
    this.client.on(sharded ? 'smessageBuffer' : 'messageBuffer', (from: Buffer, payload: Buffer) => {
      if (name.equals(from)) listener(payload)
    })
    await (sharded ? this.client.ssubscribe(channel) : this.client.subscribe(channel))
  }

  onReady(listener: () => void): () => void {
    this.client.on('ready', listener)
    return () => this.client.off('ready', listener)
  }

  async close(): Promise<void> {
    this.closing = true
    this.watchdog.stop()
    this.answerWatchdog.stop()
    const client = this.client
    if (client.status === 'end') return
    if (client.status !== 'ready') {
      client.disconnect()
      return
    }
    let timer: NodeJS.Timeout | undefined
    await Promise.race([
      client.quit().catch(() => client.disconnect()),
      new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          client.disconnect()
          resolve()
        }, 2000)
      }),
    ])
    clearTimeout(timer)
  }

  terminate(): void {
    this.closing = true
    this.watchdog.stop()
    this.answerWatchdog.stop()
    this.client.disconnect()
  }
}

/** The first wait before an ended client connects again, doubled per attempt up to `reviveMaxMs`. */
const reviveFirstMs = 100
const reviveMaxMs = 2000

/**
 * Connects an ioredis client again when it ended without `close()` or `terminate()`. ioredis gives a
 * client up for good ("Connection is closed." on every command from then on) when its connector is
 * closed while it is still connecting: through Sentinel this happens when the failover watch of the
 * previous, lost connection sees `+switch-master` while the client is between two rounds of asking
 * the Sentinels for the new primary (ioredis #1683; seen here in about one failover in six). A client
 * that `connect()` is called on again asks the Sentinels afresh and subscribes again by itself.
 */
function reviveWhenEnded(client: Redis, connection: IoredisConnection, report: (waitMs: number) => void): void {
  let attempts = 0
  let timer: NodeJS.Timeout | undefined
  client.on('ready', () => {
    attempts = 0
  })
  client.on('end', () => {
    if (connection.closing || timer !== undefined) return
    const waitMs = Math.min(reviveFirstMs * 2 ** attempts++, reviveMaxMs)
    report(waitMs)
    timer = setTimeout(() => {
      timer = undefined
      if (connection.closing || client.status !== 'end') return
      // A failure here is reported through the client's 'error' event, and ends in 'end' again.
      client.connect().catch(() => {})
    }, waitMs)
    timer.unref()
  })
}

/** The ioredis driver (`?driver=ioredis`). */
export const ioredisDriver: RedisDriver = {
  name: 'ioredis',
  async open(settings, role, logger: Logger, report, signal) {
    const client = new Redis(ioredisOptions(settings, role))
    let lastError: unknown
    // While reconnecting, ioredis emits an error per attempt; each different one is reported once.
    const reported = new Set<string>()
    // Unset until the first connect succeeded: its errors are connect()'s rejection, not an outage to
    // report (a refused password was first logged as "reconnecting"); set again once it failed.
    let quiet = true
    const reportOnce = (what: string, error: unknown) => {
      const text = `${what}: ${describeError(error)}`
      if (quiet || client.status === 'end' || reported.has(text)) return
      reported.add(text)
      const wrapped = connectionError(`${what}, reconnecting`, error)
      if (report) report(wrapped)
      else logger.warn(wrapped.message)
    }
    client.on('error', (error: unknown) => {
      lastError = error
      reportOnce(`${describeServer(settings)} (${role} connection)`, error)
    })
    if (settings.sentinels) {
      reportFailoverDetectorErrors(client, (sentinel, error) => reportOnce(`Sentinel ${sentinel} (failover watch of the ${role} connection)`, error))
    }
    // ioredis' own warnings are written during the handshake of each (re)connection.
    let releaseWarnings: (() => void) | undefined
    const handshakeOver = () => {
      releaseWarnings?.()
      releaseWarnings = undefined
    }
    client.on('connect', () => {
      handshakeOver()
      releaseWarnings = routeIoredisWarnings(logger)
    })
    client.on('close', handshakeOver)
    client.on('end', handshakeOver)
    client.on('ready', () => {
      handshakeOver()
      reported.clear()
    })
    const connection = new IoredisConnection(client, answerTimeoutFor(settings, role), (why) =>
      reportOnce(`${describeServer(settings)} (${role} connection)`, why),
    )
    const giveUp = () => {
      quiet = true
      connection.terminate()
    }
    try {
      // ioredis resolves once its ready check (INFO) was answered, but bounds only the TCP connection
      // with its connectTimeout: a server that never answers would keep this pending forever.
      await withinConnectTimeout(settings, client.connect(), giveUp, signal)
    } catch (error) {
      giveUp()
      handshakeOver()
      if (error instanceof AbortedError) throw error
      throw connectionError(`cannot connect to ${describeServer(settings)}`, error instanceof NoAnswerError ? error : (lastError ?? error))
    }
    quiet = false
    reviveWhenEnded(client, connection, (waitMs) => {
      const error = connectionError(
        `${describeServer(settings)} (${role} connection)`,
        new Error(`ioredis gave the connection up while reconnecting; connecting again in ${waitMs} ms`),
      )
      if (report) report(error)
      else logger.warn(error.message)
    })
    return connection
  },
}
