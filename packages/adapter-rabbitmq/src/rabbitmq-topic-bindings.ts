import type { SubscriptionSpec } from '@anymq/core/spi'

/** A running subscription's queue and what binds it to its topic's exchange. */
export interface TopicBinding {
  spec: SubscriptionSpec
  queue: string
  /** Whether a header filter's exchange outlives its last binding (named subscriptions) or not (ephemeral ones). */
  durable: boolean
}

/** The running subscriptions of one topic, to bind again. */
export interface TopicBindingGroup {
  topic: string
  bindings: readonly TopicBinding[]
}

/**
 * The bindings of this connection's running subscriptions, bound again every `checkMs`. Deleting a topic's
 * exchange drops every binding to it, and whoever declares it again (another process's publish) cannot know
 * them; AMQP tells nobody, and binding again is idempotent on the broker, so the subscriptions do it
 * themselves. One timer per connection, unref'd, running only while a subscription does; each check hands
 * every topic over at once, so that it can run on one channel.
 */
export class TopicBindings {
  private readonly byTopic = new Map<string, Set<TopicBinding>>()
  private timer: NodeJS.Timeout | undefined
  private checking = false

  constructor(
    private readonly rebind: (groups: readonly TopicBindingGroup[]) => Promise<void>,
    private readonly checkMs: number,
  ) {}

  /** Keeps `binding` bound until the returned function is called (its consumer closed). */
  add(binding: TopicBinding): () => void {
    const topic = binding.spec.topic
    let bindings = this.byTopic.get(topic)
    if (!bindings) {
      bindings = new Set()
      this.byTopic.set(topic, bindings)
    }
    bindings.add(binding)
    this.startTimer()
    return () => {
      bindings.delete(binding)
      if (bindings.size === 0 && this.byTopic.get(topic) === bindings) this.byTopic.delete(topic)
      if (this.byTopic.size === 0) this.stopTimer()
    }
  }

  /** The topic's bindings, each once (consumers of one named subscription share theirs). */
  of(topic: string): TopicBinding[] {
    const unique = new Map<string, TopicBinding>()
    for (const binding of this.byTopic.get(topic) ?? []) unique.set(`${binding.queue}\n${JSON.stringify(binding.spec.filter ?? {})}`, binding)
    return [...unique.values()]
  }

  close(): void {
    this.byTopic.clear()
    this.stopTimer()
  }

  private startTimer(): void {
    if (this.timer || this.checkMs === 0) return
    this.timer = setInterval(() => void this.check(), this.checkMs)
    // A running subscription keeps the process alive through its connection, not through this check.
    this.timer.unref()
  }

  private stopTimer(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  private async check(): Promise<void> {
    // A slow broker does not pile checks up.
    if (this.checking) return
    this.checking = true
    try {
      // rebind() logs its own failures; the next check tries again.
      await this.rebind([...this.byTopic.keys()].map((topic) => ({ topic, bindings: this.of(topic) }))).catch(() => {})
    } finally {
      this.checking = false
    }
  }
}
