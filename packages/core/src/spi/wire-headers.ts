/**
 * Reserved headers anymq writes beside the user's. Every adapter carries them as ordinary broker
 * headers, so tools and clients other than anymq can read them. Users never see them in
 * `message.headers`.
 */
export const wireHeaders = {
  prefix: 'x-anymq-',
  /** Delivery attempt for adapters that retry by republishing. */
  attempt: 'x-anymq-attempt',
  /** Last failure: error name and message. */
  errorName: 'x-anymq-error-name',
  errorMessage: 'x-anymq-error',
  /** Epoch milliseconds of the first and the last failed attempt. */
  firstFailureAt: 'x-anymq-first-failure-at',
  lastFailureAt: 'x-anymq-last-failure-at',
  /** Attempts made before the message was dead-lettered. */
  attempts: 'x-anymq-attempts',
  /** The queue or `topic/subscription` a dead letter came from, so redrive knows where to return it. */
  source: 'x-anymq-source',
  /** Epoch milliseconds after which the message is dropped unhandled (`ttlMs`; a request's deadline: its requester no longer waits). */
  expiresAt: 'x-anymq-expires-at',
  /** Set on a reply when the responder's handler threw. */
  replyError: 'x-anymq-reply-error',
  /** Set on a topic responder's reply: the subscription name of the responder that answered (scatter-gather). */
  responder: 'x-anymq-responder',
  /** Claim check: the blob-store key holding the real body; the message's own body is only that key. */
  claimCheck: 'x-anymq-claim-check',
} as const

export function isReservedHeader(name: string): boolean {
  return name.startsWith(wireHeaders.prefix)
}

/** The user's headers only, without anymq's reserved ones. */
export function userHeaders(headers: Readonly<Record<string, string>>): Record<string, string> {
  const result: Record<string, string> = {}
  // for…in, not Object.keys or entries: no array per delivery (headers are plain objects, nothing inherited).
  for (const name in headers) if (!isReservedHeader(name)) result[name] = headers[name] as string
  return result
}
