import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { AdapterFactory } from '@anymq/core/spi'
import { type BenchClient, type BrokerTarget, NotRunnable } from './bench-client.js'
import { anymqClient } from './clients/anymq-client.js'
import { anymqTopicClient } from './clients/anymq-topic-client.js'
import { eventBridgeCleanup, eventBridgeRawClient } from './clients/eventbridge-raw-client.js'
import { kafkaCleanup, kafkaRawClient } from './clients/kafka-raw-client.js'
import { kinesisCleanup, kinesisRawClient } from './clients/kinesis-raw-client.js'
import { natsCleanup, natsRawClient } from './clients/nats-raw-client.js'
import { plainMemoryClient } from './clients/plain-memory-client.js'
import { pubsubCleanup, pubsubRawClient } from './clients/pubsub-raw-client.js'
import { rabbitmqCleanup, rabbitmqRawClient } from './clients/rabbitmq-raw-client.js'
import { redisNodeRawClient } from './clients/redis-node-raw-client.js'
import { redisCleanup, redisRawClient } from './clients/redis-raw-client.js'
import { sqsCleanup, sqsRawClient } from './clients/sqs-raw-client.js'

/** The workspace root (bench/src or bench/dist → ../..). */
export const workspaceRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/**
 * Loads an adapter package of the workspace by folder. The harness runs on compiled JavaScript (what
 * users run), so it takes `dist/index.js`, built by the harness before the run; under tsx with the
 * `@anymq/source` condition it takes `src/index.ts`. A folder or build that is missing is a reason
 * not to run, never a silent omission.
 */
export async function loadAdapter(folder: string): Promise<AdapterFactory> {
  const packageDirectory = join(workspaceRoot, 'packages', folder)
  if (!existsSync(join(packageDirectory, 'package.json'))) throw new NotRunnable(`packages/${folder} does not exist yet`)
  const fromSource = import.meta.url.endsWith('.ts')
  const entry = join(packageDirectory, fromSource ? 'src/index.ts' : 'dist/index.js')
  if (!existsSync(entry))
    throw new NotRunnable(
      `packages/${folder}/${fromSource ? 'src/index.ts' : 'dist/index.js'} is missing (${fromSource ? 'no source yet' : 'the build failed'})`,
    )
  let loaded: { adapter?: AdapterFactory }
  try {
    loaded = (await import(pathToFileURL(entry).href)) as { adapter?: AdapterFactory }
  } catch (error) {
    throw new NotRunnable(`packages/${folder} does not load: ${(error as Error).message.split('\n')[0]}`)
  }
  if (!loaded.adapter) throw new NotRunnable(`packages/${folder} exports no adapter`)
  return loaded.adapter
}

function requireUrl(variable: string): string {
  const url = process.env[variable]
  if (!url) throw new NotRunnable(`${variable} is not set (run scripts/brokers.sh up and eval "$(scripts/brokers.sh env)")`)
  return url
}

let memoryBrokers = 0

/** Loaded on demand: @platformatic/kafka needs Node ≥ 22.22 and must not stop the other brokers' runs. */
async function platformaticRawClient(url: string): Promise<BenchClient> {
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number)
  if (major < 22 || (major === 22 && minor < 22) || (major === 24 && minor < 6))
    throw new NotRunnable(`@platformatic/kafka needs Node >= 22.22 (this is ${process.versions.node})`)
  const { kafkaPlatformaticRawClient } = await import('./clients/kafka-platformatic-raw-client.js')
  return kafkaPlatformaticRawClient(url)
}

/** The URL with one query parameter set (`kafka://…?driver=kafkajs`). */
function withParameter(url: string, name: string, value: string): string {
  const parsed = new URL(url)
  parsed.searchParams.set(name, value)
  return parsed.toString()
}

function brokerTarget(
  name: string,
  urlVariable: string,
  folder: string,
  raw: (url: string) => Promise<BenchClient>,
  cleanup: (url: string, marker: string) => Promise<void>,
  cleanupAfterEachRun = true,
  anymqParameter?: [name: string, value: string],
  /** A topic provider (EventBridge): the harness's queue is a topic with one named subscription on both sides. */
  topics = false,
): BrokerTarget {
  const url = process.env[urlVariable]
  return {
    name,
    urlVariable,
    url,
    raw: () => raw(requireUrl(urlVariable)),
    async anymq() {
      const adapter = await loadAdapter(folder)
      const base = requireUrl(urlVariable)
      const target = anymqParameter ? withParameter(base, ...anymqParameter) : base
      const options = anymqParameter ? `${anymqParameter[0]}=${anymqParameter[1]}, ` : ''
      if (topics) return anymqTopicClient(target, adapter, `anymq (@anymq/core + packages/${folder}), ${options}topic.publish / subscribe, default options`)
      return anymqClient(target, adapter, `anymq (@anymq/core + packages/${folder}), ${options}default queue options`)
    },
    cleanup: (marker) => cleanup(requireUrl(urlVariable), marker),
    cleanupAfterEachRun,
  }
}

/** Every broker the harness knows, in report order. */
export function allTargets(): BrokerTarget[] {
  return [
    {
      name: 'memory',
      urlVariable: undefined,
      url: 'memory://',
      raw: async () => plainMemoryClient(),
      async anymq() {
        const adapter = await loadAdapter('adapter-memory')
        // A broker of its own per client, so queues of earlier runs are not kept alive by this one.
        return anymqClient(`memory://bench-${memoryBrokers++}`, adapter, 'anymq (@anymq/core + @anymq/memory), default queue options', { drainAfterRun: true })
      },
      cleanup: async () => {},
    },
    brokerTarget('rabbitmq', 'ANYMQ_RABBITMQ_URL', 'adapter-rabbitmq', rabbitmqRawClient, rabbitmqCleanup),
    // The opt-in wire without the millisecond timestamp header (`--brokers rabbitmq,rabbitmq-seconds`): what it costs per publish.
    {
      ...brokerTarget('rabbitmq-seconds', 'ANYMQ_RABBITMQ_URL', 'adapter-rabbitmq', rabbitmqRawClient, rabbitmqCleanup, true, [
        'timestampPrecision',
        'seconds',
      ]),
      onlyWhenNamed: true,
    },
    // Both Kafka drivers in one run: anymq on each beside the raw client of the same library.
    brokerTarget('kafka', 'ANYMQ_KAFKA_URL', 'adapter-kafka', kafkaRawClient, kafkaCleanup, false, ['driver', 'kafkajs']),
    brokerTarget('kafka-platformatic', 'ANYMQ_KAFKA_URL', 'adapter-kafka', platformaticRawClient, kafkaCleanup, false, ['driver', 'platformatic']),
    brokerTarget('sqs', 'ANYMQ_SQS_URL', 'adapter-aws', sqsRawClient, sqsCleanup),
    // Topics through EventBridge (`?topics=eventbridge`): publish and subscribe beside raw PutEvents + a rule to an SQS queue.
    brokerTarget('sqs-eventbridge', 'ANYMQ_SQS_URL', 'adapter-aws', eventBridgeRawClient, eventBridgeCleanup, true, ['topics', 'eventbridge'], true),
    brokerTarget('kinesis', 'ANYMQ_KINESIS_URL', 'adapter-kinesis', kinesisRawClient, kinesisCleanup),
    // Both Redis drivers in one run: anymq on each beside the raw client of the same library.
    brokerTarget('redis', 'ANYMQ_REDIS_URL', 'adapter-redis', redisRawClient, redisCleanup, true, ['driver', 'ioredis']),
    brokerTarget('redis-node', 'ANYMQ_REDIS_URL', 'adapter-redis', redisNodeRawClient, redisCleanup, true, ['driver', 'node-redis']),
    brokerTarget('nats', 'ANYMQ_NATS_URL', 'adapter-nats', natsRawClient, natsCleanup),
    brokerTarget('gcp-pubsub', 'ANYMQ_PUBSUB_URL', 'adapter-gcp-pubsub', pubsubRawClient, pubsubCleanup),
  ]
}
