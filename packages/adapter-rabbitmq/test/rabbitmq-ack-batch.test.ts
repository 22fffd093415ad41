import type { Channel, ConsumeMessage } from 'amqplib'
import { describe, expect, it } from 'vitest'
import { RabbitAckBatch } from '../src/rabbitmq-ack-batch.js'

/** A channel that records the acks amqplib would write, as `tag` or `tag+` (multiple). */
function recordingChannel() {
  const frames: string[] = []
  const channel = {
    ack(message: ConsumeMessage, allUpTo?: boolean) {
      frames.push(`${message.fields.deliveryTag}${allUpTo ? '+' : ''}`)
    },
  } as unknown as Channel
  return { channel, frames }
}

const delivery = (deliveryTag: number) => ({ fields: { deliveryTag } }) as ConsumeMessage

describe('RabbitAckBatch', () => {
  it('acks below the oldest held delivery with one multiple ack, and the others one by one, never past a held one', async () => {
    const { channel, frames } = recordingChannel()
    const acks = new RabbitAckBatch(channel, () => false)
    const messages = [1, 2, 3, 4, 5, 6, 7].map(delivery)
    for (const message of messages) acks.delivered(message)
    // 1 and 4 stay held: 2, 3 and 5 are above 1, so each goes alone.
    await Promise.all([acks.ack(messages[1] as ConsumeMessage), acks.ack(messages[2] as ConsumeMessage), acks.ack(messages[4] as ConsumeMessage)])
    expect(frames).toEqual(['2', '3', '5'])
    frames.length = 0
    // 1 settles: the oldest held is now 4, so one multiple ack at 1 (2 and 3 are no longer unacked on the broker).
    await acks.ack(messages[0] as ConsumeMessage)
    expect(frames).toEqual(['1+'])
    frames.length = 0
    // 4 goes back to the queue (nacked by the consumer itself), then 6 and 7 settle together: nothing is held any more.
    acks.released(messages[3] as ConsumeMessage)
    await Promise.all([acks.ack(messages[6] as ConsumeMessage), acks.ack(messages[5] as ConsumeMessage)])
    expect(frames).toEqual(['7+'])
  })

  it('writes nothing on a closed channel and still settles the promises (the broker requeued those deliveries)', async () => {
    const { channel, frames } = recordingChannel()
    const acks = new RabbitAckBatch(channel, () => true)
    const message = delivery(1)
    acks.delivered(message)
    await expect(acks.ack(message)).resolves.toBeUndefined()
    expect(frames).toEqual([])
  })
})
