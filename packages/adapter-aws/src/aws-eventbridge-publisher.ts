import { ConnectionError, type OutgoingMessage, PublishError } from '@anymq/core/spi'
import { type EventBridgeClient, PutEventsCommand, type PutEventsCommandOutput } from '@aws-sdk/client-eventbridge'
import { Batcher, type EntryOutcome } from './aws-batcher.js'
import { adapterName, isRetryable, wrapError } from './aws-errors.js'
import { type EventEntry, encodeEvent } from './aws-eventbridge-format.js'
import type { EventBridgeTopology } from './aws-eventbridge-topology.js'

/** PutEvents: at most 10 entries and 256 KiB (as EventBridge counts entries) per request. */
export const putEventsMaxEntries = 10
export const putEventsMaxBytes = 262_144

/** Entry error codes that say the entry itself is wrong: another try cannot help. */
const permanentEntryError = /Validation|Malformed|InvalidArgument|AccessDenied|NotAuthorized/i

/**
 * `topic.publish` for `topics=eventbridge`: messages become events coalesced into PutEvents requests
 * within its limits. PutEvents answers per entry; entries it failed (throttling, internal failure)
 * are sent again, up to 5 attempts, while the ones it took are not repeated.
 */
export class EventBridgePublisher {
  private readonly unordered: Batcher<EventEntry>
  /** Keyed messages: one request per topic at a time, so they reach the bus in the order sent. */
  private readonly ordered: Batcher<EventEntry>

  constructor(
    private readonly events: EventBridgeClient,
    private readonly topology: EventBridgeTopology,
  ) {
    const batcher = (concurrency: number) =>
      new Batcher<EventEntry>({
        maxEntries: putEventsMaxEntries,
        maxBytes: putEventsMaxBytes,
        size: (entry) => entry.size,
        concurrency,
        maxAttempts: 5,
        flush: (key, entries) => this.putEvents(key, entries),
        retryable: isRetryable,
      })
    this.unordered = batcher(8)
    this.ordered = batcher(1)
  }

  /** One promise per message, settled with that message's own outcome. Encoding errors throw at once. */
  publish(topic: string, messages: readonly OutgoingMessage[], maxBytes: number, signal?: AbortSignal): Promise<void>[] {
    const entries = messages.map((message) => encodeEvent(message, { topic, eventBus: this.topology.eventBus, maxBytes, adapter: adapterName }))
    return entries.map((entry) => (entry.source.key === undefined ? this.unordered : this.ordered).add(topic, entry, signal))
  }

  batchers(): Array<{ idle(): Promise<void>; abandon(): void }> {
    return [this.unordered, this.ordered]
  }

  private async putEvents(topic: string, entries: EventEntry[]): Promise<EntryOutcome[]> {
    await this.topology.ensureBus()
    let result: PutEventsCommandOutput
    try {
      result = await this.events.send(new PutEventsCommand({ Entries: entries.map(({ entry }) => entry) }))
    } catch (error) {
      throw wrapError(error, `publishing to topic '${topic}' (EventBridge PutEvents)`, 'publish')
    }
    // The response lists one result per entry, in request order.
    return entries.map((_, index): EntryOutcome => {
      const outcome = result.Entries?.[index]
      if (outcome?.EventId && !outcome.ErrorCode) return { ok: true }
      if (!outcome) {
        return { ok: false, error: new ConnectionError('PutEvents did not report this entry', { adapter: adapterName }), retryable: true }
      }
      const code = outcome.ErrorCode ?? 'Unknown'
      const retryable = !permanentEntryError.test(code)
      return {
        ok: false,
        error: new PublishError(`publishing to topic '${topic}': EventBridge refused the event (${code}: ${outcome.ErrorMessage ?? 'no message'})`, {
          adapter: adapterName,
          retryable,
        }),
        retryable,
      }
    })
  }
}
