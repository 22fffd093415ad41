import type { OutgoingMessage } from '@anymq/core/spi'

/**
 * An `OutgoingMessage` as core hands it to an adapter (id `m-1`, the JSON body `{"a":1}`, no key or
 * headers, attempt 1), with `overrides` applied: for unit tests of an adapter's wire format.
 */
export function outgoingMessage(overrides: Partial<OutgoingMessage> = {}): OutgoingMessage {
  return {
    id: 'm-1',
    body: new TextEncoder().encode('{"a":1}'),
    contentType: 'application/json',
    headers: {},
    key: undefined,
    correlationId: undefined,
    replyTo: undefined,
    timestamp: 1_700_000_000_000,
    subject: undefined,
    delayMs: 0,
    priority: undefined,
    dedupeId: undefined,
    attempt: 1,
    ...overrides,
  }
}
