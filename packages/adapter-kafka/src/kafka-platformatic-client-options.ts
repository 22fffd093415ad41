import type { KafkaSettings } from './kafka-config.js'

/** Connection options every @platformatic/kafka client shares. */
export function clientOptions(settings: KafkaSettings, retries: number | boolean) {
  const sasl = settings.sasl
    ? {
        mechanism: settings.sasl.mechanism.toUpperCase() as 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512',
        username: settings.sasl.username,
        password: settings.sasl.password,
      }
    : undefined
  return {
    clientId: settings.clientId,
    bootstrapBrokers: settings.brokers,
    connectTimeout: settings.connectionTimeoutMs,
    timeout: settings.requestTimeoutMs,
    retries,
    retryDelay: 200,
    ...(settings.ssl ? { tls: settings.ssl === true ? {} : settings.ssl } : {}),
    ...(sasl ? { sasl } : {}),
  }
}
