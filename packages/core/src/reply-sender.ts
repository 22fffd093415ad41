import { resolveCodec } from './codec.js'
import { AnymqError } from './errors.js'
import type { Message } from './message.js'
import { type OutgoingContext, prepareOutgoing } from './outgoing-message.js'
import { ReceivedMessage } from './received-message.js'
import type { Runtime } from './runtime.js'
import type { OutgoingMessage } from './spi/transport.js'
import { wireHeaders } from './spi/wire-headers.js'

/**
 * Runs a responder's handler for one request and sends its answer to the request's reply inbox: the
 * response, or the handler's error as a `null` JSON body carrying the error code and message (the
 * requester turns it into a `RemoteError`). An expired request is dropped unanswered; a request with
 * no reply address is handled and its error, if any, rethrown for the retry policy. Shared by queue
 * responders and topic responders, which differ only in `headers` (a topic responder names itself).
 */
export async function answerRequest<Request, Response>(
  runtime: Runtime,
  outgoing: OutgoingContext,
  message: Message<Request>,
  handler: (request: Request, message: Message<Request>) => Response | Promise<Response>,
  headers: Record<string, string> = {},
): Promise<void> {
  const expiresAt = Number(ReceivedMessage.incomingOf(message)?.headers[wireHeaders.expiresAt])
  if (Number.isFinite(expiresAt) && Date.now() > expiresAt) return
  const replyTo = message.replyTo
  let reply: OutgoingMessage
  try {
    const response = await handler(message.body, message)
    if (replyTo === undefined) return
    reply = await prepareOutgoing(response, { correlationId: message.correlationId }, outgoing, { headers })
  } catch (error) {
    if (replyTo === undefined) throw error
    const failure = error instanceof Error ? error : new Error(String(error))
    reply = await prepareOutgoing(
      null,
      { correlationId: message.correlationId },
      { ...outgoing, schema: undefined, codec: resolveCodec('json') },
      {
        headers: {
          ...headers,
          [wireHeaders.replyError]: failure instanceof AnymqError ? failure.code : failure.name,
          [wireHeaders.errorMessage]: failure.message.slice(0, 1024),
        },
      },
    )
  }
  await runtime.publish({ kind: 'inbox', address: replyTo }, [reply])
}
