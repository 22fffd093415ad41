import type { Logger } from '@anymq/core/spi'
import { type NodeRedisClient, resp2Client } from './node-redis-client.js'
import type { RedisSettings } from './redis-config.js'
import { describeError } from './redis-errors.js'

/** Hears the primary's new address, `host:port` (after `natMap`), when Sentinel failed it over. */
export type FailoverListener = (primary: string) => void

/** Wait before subscribing again after a Sentinel connection dropped (then the next Sentinel). */
const resubscribeMs = 1000

const watches = new WeakMap<RedisSettings, FailoverWatch>()

/**
 * Listens on a Sentinel for `+switch-master` of the primary the connections use. A connection to a
 * primary that stops answering (frozen, or cut off without a reset) gets no error, so without this
 * it waits for that old primary to answer again, or for ever, though Sentinel failed over within
 * seconds (node-redis has no failover detector; ioredis' is `failoverDetector`). One subscription,
 * to the first Sentinel that takes it, serves every connection made with the same settings (one
 * transport's), and ends with the last of them; a dropped one moves to the next Sentinel.
 */
export class FailoverWatch {
  private readonly listeners = new Set<FailoverListener>()
  private client: NodeRedisClient | undefined
  private timer: NodeJS.Timeout | undefined
  private next = 0
  private reported = false

  private constructor(
    private readonly settings: RedisSettings,
    private readonly logger: Logger,
  ) {}

  /** Adds `listener` to the watch of `settings` (started with its first listener); returns its removal. */
  static listen(settings: RedisSettings, logger: Logger, listener: FailoverListener): () => void {
    let watch = watches.get(settings)
    if (watch === undefined) {
      watch = new FailoverWatch(settings, logger)
      watches.set(settings, watch)
    }
    watch.listeners.add(listener)
    if (watch.listeners.size === 1) watch.subscribe()
    const current = watch
    return () => {
      current.listeners.delete(listener)
      if (current.listeners.size === 0) current.stop()
    }
  }

  private subscribe(): void {
    const sentinels = this.settings.sentinels ?? []
    const sentinel = sentinels[this.next++ % Math.max(1, sentinels.length)]
    if (sentinel === undefined || this.listeners.size === 0) return
    const client = resp2Client({
      socket: { host: sentinel.host, port: sentinel.port, connectTimeout: this.settings.connectTimeoutMs, reconnectStrategy: false },
      disableClientInfo: true,
      maintNotifications: 'disabled',
    })
    this.client = client
    const retry = (error: unknown) => {
      if (this.client !== client) return
      this.client = undefined
      client.destroy()
      if (!this.reported) {
        this.reported = true
        this.logger.debug(`redis: listening for failovers on sentinel ${sentinel.host}:${sentinel.port} failed (${describeError(error)}); trying the next`)
      }
      if (this.listeners.size > 0) this.timer = setTimeout(() => this.subscribe(), resubscribeMs).unref()
    }
    client.on('error', retry)
    client
      .connect()
      .then(() => client.SUBSCRIBE('+switch-master', (message) => this.switched(String(message))))
      .then(() => {
        this.reported = false
      })
      .catch(retry)
  }

  /** `<master name> <old ip> <old port> <new ip> <new port>` */
  private switched(message: string): void {
    const [name, , , host, port] = message.split(' ')
    if (name !== this.settings.masterName || host === undefined || port === undefined) return
    const announced = `${host}:${port}`
    const mapped = this.settings.natMap?.[announced]
    const primary = mapped ? `${mapped.host}:${mapped.port}` : announced
    for (const listener of [...this.listeners]) listener(primary)
  }

  private stop(): void {
    clearTimeout(this.timer)
    this.client?.destroy()
    this.client = undefined
    watches.delete(this.settings)
  }
}
