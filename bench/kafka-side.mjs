// What the standalone Kafka bench scripts (kafka-publish-await, kafka-send-batch, kafka-consume) share:
// the broker list from ANYMQ_KAFKA_URL, the @platformatic/kafka the adapter itself loads, and a topic
// that is ready to take records.
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

/** The repository's root. */
export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..')

/** ANYMQ_KAFKA_URL, or a clear stop when it is not set. */
export function kafkaUrl() {
  const url = process.env.ANYMQ_KAFKA_URL
  if (!url) throw new Error('ANYMQ_KAFKA_URL is not set: eval "$(bash scripts/brokers.sh env)" first')
  return url
}

/** `host:port` of each broker in a `kafka://a:9092,b:9092/…?…` URL. */
export function bootstrapBrokers(url) {
  return url
    .replace(/^kafka:\/\//, '')
    .split(/[/?]/)[0]
    .split(',')
}

/**
 * The adapter's own copy of @platformatic/kafka, as an ES module: the very instance the compiled adapter
 * imports, so a stub on its `Producer.prototype` reaches anymq's side too.
 */
export function platformaticKafka(root = repoRoot) {
  return import(pathToFileURL(join(root, 'packages', 'adapter-kafka', 'node_modules', '@platformatic', 'kafka', 'dist', 'index.js')).href)
}

/** Creates `topic` and waits until each of its partitions has a leader (a send before that fails). */
export async function createReadyTopic(admin, topic, partitions = 3) {
  await admin.createTopics({ topics: [topic], partitions, replicas: 1 })
  for (;;) {
    const metadata = await admin.metadata({ topics: [topic], forceUpdate: true })
    if (metadata.topics.get(topic)?.partitions.every((partition) => partition.leader >= 0)) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
