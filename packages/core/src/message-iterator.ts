import type { Message } from './message.js'
import type { Subscription } from './subscription.js'

interface Pending<T> {
  message: Message<T>
  done: () => void
}

/** Bridges the push-style consumer to `for await`: one message at a time, acked on `next()`. */
export class MessageIterator<T> {
  private readonly buffered: Pending<T>[] = []
  private readonly takers: Array<(result: IteratorResult<Message<T>>) => void> = []
  private current: Pending<T> | undefined
  private subscription: Subscription | undefined
  private finished = false

  readonly handler = (message: Message<T>): Promise<void> =>
    new Promise<void>((done) => {
      const pending = { message, done }
      const taker = this.takers.shift()
      if (taker) {
        this.current = pending
        taker({ value: message, done: false })
      } else this.buffered.push(pending)
    })

  attach(subscription: Subscription): AsyncIterableIterator<Message<T>> {
    this.subscription = subscription
    subscription.ready.catch(() => this.finish())
    const iterator: AsyncIterableIterator<Message<T>> = {
      next: async () => {
        await this.settleCurrent('ack')
        if (this.finished) return { value: undefined, done: true }
        const pending = this.buffered.shift()
        if (pending) {
          this.current = pending
          return { value: pending.message, done: false }
        }
        return new Promise((resolve) => this.takers.push(resolve))
      },
      return: async () => {
        await this.settleCurrent('release')
        await this.finish()
        return { value: undefined, done: true }
      },
      [Symbol.asyncIterator]: () => iterator,
    }
    return iterator
  }

  private async settleCurrent(how: 'ack' | 'release'): Promise<void> {
    const current = this.current
    if (!current) return
    this.current = undefined
    if (how === 'ack') await current.message.ack()
    else
      await current.message.nack({
        reason: 'left the for-await loop before finishing this message',
      })
    current.done()
  }

  private async finish(): Promise<void> {
    if (this.finished) return
    this.finished = true
    for (const taker of this.takers.splice(0)) taker({ value: undefined, done: true })
    for (const pending of this.buffered.splice(0)) pending.done()
    await this.subscription?.close()
  }
}
