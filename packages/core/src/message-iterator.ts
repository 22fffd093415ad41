import type { Message } from './message.js'
import { abortSignal, integer, validateOptions } from './options-validation.js'
import type { Runtime } from './runtime.js'
import { type ConsumerDefinition, type Subscription, startSubscription } from './subscription.js'

/** Options of `queue.messages()` and `topic.messages()`. */
export interface MessagesOptions {
  /** Aborting it ends the loop: a pending `next()` resolves with `done`. */
  signal?: AbortSignal
  /** Lease (visibility timeout) of the message being looked at; adapters with `leaseExpiry`. */
  leaseMs?: number
}

interface Pending<T> {
  message: Message<T>
  /** Lets the consumer engine move on: the message has been settled. */
  done: () => void
}

/**
 * The async-iterator form of a consumer: one message at a time, acked when the loop asks for the next
 * one. The loop ends when the signal aborts, the subscription or connection closes (a pending `next()`
 * resolves with `done`), or the caller leaves it; leaving (`break`, `return`, a throw) gives the
 * current message back with `release()`, so it is delivered again without using up an attempt.
 */
export function iterateMessages<T>(runtime: Runtime, definition: ConsumerDefinition<T>, options: MessagesOptions): AsyncIterableIterator<Message<T>> {
  validateOptions(options, { signal: abortSignal(), leaseMs: integer(1) }, `${definition.where} options`, runtime.adapter)
  const iterator = new MessageIterator<T>()
  const subscription = startSubscription<T>(runtime, definition, iterator.handler, { ack: 'manual', concurrency: 1, ...options }, () => iterator.end())
  return iterator.attach(subscription)
}

/** Bridges the push-style consumer to `for await`. */
class MessageIterator<T> {
  private readonly buffered: Pending<T>[] = []
  private readonly takers: Array<(result: IteratorResult<Message<T>>) => void> = []
  private current: Pending<T> | undefined
  private subscription: Subscription | undefined
  private ended = false

  readonly handler = (message: Message<T>): Promise<void> =>
    new Promise<void>((done) => {
      const pending = { message, done }
      if (this.ended) {
        void this.settle(pending, 'release')
        return
      }
      const taker = this.takers.shift()
      if (taker) {
        this.current = pending
        taker({ value: message, done: false })
      } else this.buffered.push(pending)
    })

  attach(subscription: Subscription): AsyncIterableIterator<Message<T>> {
    this.subscription = subscription
    const iterator: AsyncIterableIterator<Message<T>> = {
      next: async () => {
        const current = this.current
        this.current = undefined
        if (current) await this.settle(current, 'ack')
        if (this.ended) return { value: undefined, done: true }
        const pending = this.buffered.shift()
        if (pending) {
          this.current = pending
          return { value: pending.message, done: false }
        }
        return new Promise((resolve) => this.takers.push(resolve))
      },
      return: async () => {
        const current = this.current
        this.current = undefined
        if (current) await this.settle(current, 'release')
        this.end()
        await this.subscription?.close()
        return { value: undefined, done: true }
      },
      [Symbol.asyncIterator]: () => iterator,
    }
    return iterator
  }

  /** No more messages: waiting `next()` calls resolve with `done`, fetched ones go back untouched. */
  end(): void {
    if (this.ended) return
    this.ended = true
    for (const taker of this.takers.splice(0)) taker({ value: undefined, done: true })
    for (const pending of this.buffered.splice(0)) void this.settle(pending, 'release')
  }

  private async settle(pending: Pending<T>, how: 'ack' | 'release'): Promise<void> {
    try {
      if (how === 'ack') await pending.message.ack()
      else await pending.message.release()
    } finally {
      pending.done()
    }
  }
}
