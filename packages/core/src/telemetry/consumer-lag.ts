import type { Attributes, Meter, ObservableGauge, ObservableResult } from '@opentelemetry/api'

/** Reads how many messages of one consumed source wait to be delivered; `undefined` when the broker does not tell. */
export type LagReader = () => Promise<number | undefined>

interface Watched {
  attributes: Attributes
  read: LagReader
  /** Subscriptions of this process consuming the source; polled while above zero. */
  consumers: number
  /** The last value read, reported at each collection; absent until read, or after a failed read. */
  lag: number | undefined
}

/**
 * The observable gauge `messaging.consumer.lag`: for each queue or subscription this connection
 * consumes, the messages waiting to be delivered (`ready` of the adapter's `admin.stats`: a queue's
 * depth, Kafka's end minus committed offsets…). Sources are read every `intervalMs` in the background
 * while at least one consumer runs, not at collection time, so that an exporter never waits on a
 * broker; a failed read drops the source's value until the next read works.
 */
export class ConsumerLagGauge {
  private readonly gauge: ObservableGauge
  private readonly watched = new Map<string, Watched>()
  private timer: ReturnType<typeof setInterval> | undefined

  constructor(
    meter: Meter,
    private readonly intervalMs: number,
  ) {
    this.gauge = meter.createObservableGauge('messaging.consumer.lag', {
      unit: '{message}',
      description: 'Messages of a consumed queue or subscription waiting to be delivered, as the broker reports them.',
    })
    this.gauge.addCallback((result) => this.observe(result))
  }

  /** Starts reporting `key`'s lag (once per key, however many consumers share it); the returned function stops this watch. */
  watch(key: string, attributes: Attributes, read: LagReader): () => void {
    let entry = this.watched.get(key)
    if (entry === undefined) {
      entry = { attributes, read, consumers: 0, lag: undefined }
      this.watched.set(key, entry)
      void this.refresh(entry)
    }
    entry.consumers++
    this.timer ??= setInterval(() => this.refreshAll(), this.intervalMs)
    // Never keeps the process alive on its own.
    this.timer.unref?.()
    let stopped = false
    const watched = entry
    return () => {
      if (stopped) return
      stopped = true
      watched.consumers--
      if (watched.consumers > 0) return
      this.watched.delete(key)
      if (this.watched.size === 0 && this.timer !== undefined) {
        clearInterval(this.timer)
        this.timer = undefined
      }
    }
  }

  private refreshAll(): void {
    for (const entry of this.watched.values()) void this.refresh(entry)
  }

  private async refresh(entry: Watched): Promise<void> {
    try {
      entry.lag = await entry.read()
    } catch {
      // The broker did not answer (it may be restarting): no value rather than a stale one.
      entry.lag = undefined
    }
  }

  private observe(result: ObservableResult): void {
    for (const entry of this.watched.values()) if (entry.lag !== undefined) result.observe(entry.lag, entry.attributes)
  }
}
