import { resolveCodec } from './codec.js'
import { ConfigError } from './errors.js'
import type { Message } from './message.js'
import { validateOptions } from './options-validation.js'
import type { OutgoingContext } from './outgoing-message.js'
import { validateName } from './queue.js'
import { answerRequest } from './reply-sender.js'
import { type RequestReplyOptions, requestQueueSpec, requestReplyOptionChecks } from './requester.js'
import { createRetryPolicy } from './retry-policy.js'
import type { Runtime } from './runtime.js'
import { type ConsumeOptions, type Subscription, startSubscription } from './subscription.js'

/** Serves requests of one name; responders sharing a name compete for requests. */
export class Responder<Request = unknown, Response = unknown> {
  readonly name: string
  private readonly outgoing: OutgoingContext

  constructor(
    private readonly runtime: Runtime,
    name: string,
    private readonly options: RequestReplyOptions<Request, Response> = {},
  ) {
    validateOptions(options, { ...requestReplyOptionChecks, broker: runtime.brokerOptionsCheck }, `responder('${name}') options`, runtime.adapter)
    validateName(runtime, name, 'responder')
    this.name = name
    this.outgoing = {
      adapter: runtime.adapter,
      capabilities: runtime.capabilities,
      codec: resolveCodec(options.codec),
      schema: options.responseSchema,
      where: `replies of '${name}'`,
    }
    runtime.declarations.declare('request-reply', name, {
      schema: options.requestSchema,
      responseSchema: options.responseSchema,
      contentType: this.outgoing.codec.contentType,
      received: true,
    })
  }

  /**
   * Starts answering. The handler's return value is the reply; if it throws, the requester gets a
   * `RemoteError` with its message. Requests whose requester has already given up are skipped.
   */
  serve(handler: (request: Request, message: Message<Request>) => Response | Promise<Response>, options: Omit<ConsumeOptions, 'ack'> = {}): Subscription {
    if (typeof handler !== 'function') {
      throw new ConfigError([{ field: `responder('${this.name}').serve handler`, message: 'expected a function (request, message) => reply' }], {
        adapter: this.runtime.adapter,
      })
    }
    return startSubscription<Request>(
      this.runtime,
      {
        source: { kind: 'queue', queue: requestQueueSpec(this.name, this.options.broker ?? {}) },
        label: this.name,
        where: `responder('${this.name}').serve`,
        codec: this.outgoing.codec,
        schema: this.options.requestSchema,
        retry: createRetryPolicy(false),
        deadLetter: false,
      },
      (message) => answerRequest(this.runtime, this.outgoing, message, handler),
      options,
    )
  }
}
