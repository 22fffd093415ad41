import { resolveCodec } from './codec.js'
import type { Message } from './message.js'
import { validateOptions } from './options-validation.js'
import type { OutgoingContext } from './outgoing-message.js'
import { validateName } from './queue.js'
import { answerRequest } from './reply-sender.js'
import { type RequestReplyOptions, requestReplyOptionChecks } from './requester.js'
import type { Runtime } from './runtime.js'
import { wireHeaders } from './spi/wire-headers.js'
import type { Subscription } from './subscription.js'
import { type SubscribeOptions, Topic } from './topic.js'

/**
 * Answers scatter-gather requests published to a topic, under a named subscription: every
 * subscription answers each request once (instances sharing the name compete, like a consumer group),
 * and the reply carries the subscription name, so the gatherer knows who answered and who is missing.
 */
export class TopicResponder<Request = unknown, Response = unknown> {
  readonly topic: string
  /** The subscription name; the name the gatherer sees this responder by. */
  readonly name: string
  private readonly outgoing: OutgoingContext

  constructor(
    private readonly runtime: Runtime,
    topic: string,
    name: string,
    private readonly options: RequestReplyOptions<Request, Response> = {},
  ) {
    validateOptions(
      options,
      { ...requestReplyOptionChecks, broker: runtime.brokerOptionsCheck },
      `topicResponder('${topic}', '${name}') options`,
      runtime.adapter,
    )
    validateName(runtime, topic, 'topic')
    validateName(runtime, name, 'subscription')
    this.topic = topic
    this.name = name
    this.outgoing = {
      adapter: runtime.adapter,
      capabilities: runtime.capabilities,
      codec: resolveCodec(options.codec),
      schema: options.responseSchema,
      where: `replies of '${topic}/${name}'`,
    }
  }

  /**
   * Starts answering. The handler's return value is the reply; if it throws, the gatherer records a
   * `RemoteError` for this responder. Requests whose gatherer has passed its deadline are skipped. No
   * retries and no dead-letter queue: the gatherer is waiting. `ready` resolves once the subscription
   * receives every request published from then on.
   */
  serve(
    handler: (request: Request, message: Message<Request>) => Response | Promise<Response>,
    options: Omit<SubscribeOptions, 'ack' | 'retry' | 'deadLetter' | 'broker'> = {},
  ): Subscription {
    this.runtime.assertOpen()
    const topic = new Topic<Request>(this.runtime, this.topic, {
      codec: this.options.codec,
      schema: this.options.requestSchema,
      broker: this.options.broker,
    })
    return topic.subscribe(this.name, (message) => answerRequest(this.runtime, this.outgoing, message, handler, { [wireHeaders.responder]: this.name }), {
      ...options,
      retry: false,
      deadLetter: false,
    })
  }
}
