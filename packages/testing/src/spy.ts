import type { Message } from '@anymq/core'

/** A handler that records every call; `calls` holds the bodies in call order, `errors` what the wrapped handler threw. */
export interface HandlerSpy<T> {
  (message: Message<T>): Promise<void>
  readonly calls: T[]
  readonly messages: Message<T>[]
  readonly errors: unknown[]
}

/** Wraps a handler (or nothing) so a test can see what it was called with; errors still propagate, so retries still happen. */
export function spy<T>(handler: (message: Message<T>) => unknown = () => {}): HandlerSpy<T> {
  const calls: T[] = []
  const messages: Message<T>[] = []
  const errors: unknown[] = []
  const wrapped = async (message: Message<T>) => {
    calls.push(message.body)
    messages.push(message)
    try {
      await handler(message)
    } catch (error) {
      errors.push(error)
      throw error
    }
  }
  return Object.assign(wrapped, { calls, messages, errors })
}
