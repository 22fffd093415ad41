import { brokerUrl, Collector, telemetryCapture, uniqueName, waitUntil } from '@anymq/conformance'
import { type Anymq, connect } from '@anymq/core'
import { afterAll, describe, expect, it } from 'vitest'

const rabbitmqUrl = brokerUrl('ANYMQ_RABBITMQ_URL')
const kafkaUrl = brokerUrl('ANYMQ_KAFKA_URL')

// An order taken from RabbitMQ whose handler passes a shipment on to Kafka: one trace, from the
// first send to the Kafka consumer, each span the child of the one before.
describe.skipIf(!rabbitmqUrl || !kafkaUrl)(
  'one trace across two brokers (ANYMQ_RABBITMQ_URL and ANYMQ_KAFKA_URL: run scripts/brokers.sh up rabbitmq kafka)',
  () => {
    const otel = telemetryCapture()
    const open: Anymq[] = []
    afterAll(async () => {
      await Promise.allSettled(open.map((mq) => mq.close()))
    })

    it('RabbitMQ send → process → Kafka send → process are one trace with correct parents', async () => {
      const rabbitmq = await connect(rabbitmqUrl as string)
      const kafka = await connect(kafkaUrl as string)
      open.push(rabbitmq, kafka)
      const orders = uniqueName('orders')
      const shipments = uniqueName('shipments')
      const shipped = new Collector<{ order: number }>()
      await kafka.queue<{ order: number }>(shipments).consume(shipped.handler).ready
      const outbound = kafka.queue<{ order: number }>(shipments)
      await rabbitmq.queue<{ order: number }>(orders).consume(async (message) => {
        await outbound.send({ order: message.body.order })
      }).ready
      await rabbitmq.queue<{ order: number }>(orders).send({ order: 7 })
      await shipped.waitForCount(1, 60_000)
      // A span is recorded when it ends: the RabbitMQ handler's 'process' span ends after its Kafka send is
      // confirmed, which can be after the Kafka consumer already handled the shipment.
      const ended = (destination: string, name: string) => otel.spansOf(destination).some((span) => span.name === `${name} ${destination}`)
      await waitUntil(
        async () => ended(orders, 'send') && ended(orders, 'process') && ended(shipments, 'send') && ended(shipments, 'process'),
        20_000,
        'the four spans of the chain',
      )

      const find = (destination: string, name: string) => {
        const span = otel.spansOf(destination).find((candidate) => candidate.name === `${name} ${destination}`)
        if (!span) throw new Error(`no '${name} ${destination}' span`)
        return span
      }
      const chain = [find(orders, 'send'), find(orders, 'process'), find(shipments, 'send'), find(shipments, 'process')]
      expect(chain.map((span) => span.attributes['messaging.system'])).toEqual(['rabbitmq', 'rabbitmq', 'kafka', 'kafka'])
      expect(new Set(chain.map((span) => span.spanContext().traceId)).size).toBe(1)
      expect(chain[0]?.parentSpanContext).toBeUndefined()
      for (let index = 1; index < chain.length; index++) {
        expect(chain[index]?.parentSpanContext?.spanId).toBe(chain[index - 1]?.spanContext().spanId)
      }
      expect(shipped.items[0]?.headers.traceparent).toBe(`00-${chain[0]?.spanContext().traceId}-${chain[2]?.spanContext().spanId}-01`)
    })
  },
)
