import { AbortedError } from '@anymq/core/spi'
import type { v1 } from '@google-cloud/pubsub'

/** gax's promise for a call, whose `cancel()` ends the gRPC call; the client's own methods return it chained, without `cancel`. */
type CancellableCall = Promise<unknown> & { cancel(): void }

/**
 * One cheap call that proves the endpoint answers and the credentials work. `signal` (the caller's
 * connect signal) cancels it: closing the client alone leaves the call, and the channel's socket,
 * open until `timeoutMs`.
 */
export async function checkReachable(publisher: v1.PublisherClient, projectId: string, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  await publisher.initialize()
  if (signal?.aborted) throw new AbortedError('connect', { adapter: 'gcp-pubsub' })
  const project = `projects/${projectId}`
  // The routing header the generated listTopics() adds before it calls the same inner call.
  const headers = { 'x-goog-request-params': `project=${encodeURIComponent(project)}` }
  const call = publisher.innerApiCalls.listTopics?.(
    { project, pageSize: 1 },
    { timeout: timeoutMs, autoPaginate: false, otherArgs: { headers } },
  ) as CancellableCall
  const cancel = () => call.cancel()
  signal?.addEventListener('abort', cancel, { once: true })
  try {
    await call
  } finally {
    signal?.removeEventListener('abort', cancel)
  }
}
