import type { AsyncApiBindings } from '@anymq/core/spi'

const bindingVersion = '0.3.0'

function vhostOf(url: URL): string {
  const path = decodeURIComponent(url.pathname.replace(/^\//, ''))
  return path === '' ? '/' : path
}

/**
 * How `mq.asyncapi()` describes RabbitMQ, after the AMQP bindings 0.3.0: a queue is a durable queue
 * of that name, a topic a durable topic exchange of that name (each named subscription a queue
 * `<topic>.<subscription>` bound to it), request/reply a queue.
 */
export function rabbitmqAsyncApi(url: URL): AsyncApiBindings {
  const vhost = vhostOf(url)
  return {
    protocol: url.protocol === 'amqps:' ? 'amqps' : 'amqp',
    protocolVersion: '0.9.1',
    channel(channel) {
      if (channel.kind === 'topic')
        return { amqp: { is: 'routingKey', exchange: { name: channel.name, type: 'topic', durable: true, autoDelete: false, vhost }, bindingVersion } }
      return { amqp: { is: 'queue', queue: { name: channel.name, durable: true, exclusive: false, autoDelete: false, vhost }, bindingVersion } }
    },
  }
}
