import type { ConfirmChannel } from 'amqplib'
import { encodePublish, type PublishProperties } from './rabbitmq-publish-frame.js'

/**
 * Publishes one message on a confirm channel with the frames of `encodePublish`, written where
 * amqplib writes its own (the channel's slot of the connection's muxer) and with its confirm
 * callback queued as amqplib queues it. Returns what amqplib's `publish` returns (false: the buffer
 * is full, wait for `drain`), or `undefined` when it did not publish: the channel is closed or the
 * message is one the frame does not encode; the caller then calls amqplib's `publish`, which
 * publishes or throws exactly as it always did.
 */
export type FrameWriter = (
  exchange: string,
  routingKey: string,
  content: Buffer,
  properties: PublishProperties,
  confirmed: (error: unknown) => void,
) => boolean | undefined

/** The part of amqplib's (internal) channel and connection a direct write needs. */
interface ChannelInternals {
  ch: number
  sendMessage: unknown
  pushConfirmCallback(callback: (error: unknown) => void): void
  connection: {
    frameMax: number
    sentSinceLastCheck: boolean
    channels: ({ buffer: { write(chunk: Buffer): boolean } } | null | undefined)[]
  }
}

/** The writer for one amqplib confirm channel, or `undefined` when its shape is not the one this knows (amqplib changed): amqplib's own publish is then used for every message. */
export function frameWriter(channel: ConfirmChannel): FrameWriter | undefined {
  const internals = channel as unknown as Partial<ChannelInternals>
  const connection = internals.connection
  const sendMessage = internals.sendMessage
  if (
    typeof internals.ch !== 'number' ||
    typeof internals.pushConfirmCallback !== 'function' ||
    typeof sendMessage !== 'function' ||
    typeof connection?.frameMax !== 'number' ||
    !Array.isArray(connection.channels) ||
    typeof connection.channels[internals.ch]?.buffer?.write !== 'function'
  )
    return undefined
  const target = internals as ChannelInternals
  return (exchange, routingKey, content, properties, confirmed) => {
    // amqplib replaces a closed channel's `sendMessage` with one that throws: that channel is left to amqplib.
    if (target.sendMessage !== sendMessage) return undefined
    const slot = target.connection.channels[target.ch]
    if (slot == null) return undefined
    const frames = encodePublish(target.ch, exchange, routingKey, content, properties, target.connection.frameMax)
    if (frames === undefined) return undefined
    target.connection.sentSinceLastCheck = true
    const written = slot.buffer.write(frames)
    target.pushConfirmCallback(confirmed)
    return written
  }
}
