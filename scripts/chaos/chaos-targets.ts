import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)
const clusterScript = new URL('../cluster.sh', import.meta.url).pathname

export type ChaosBroker = 'kafka' | 'rabbitmq' | 'redis'
export const chaosBrokers: readonly ChaosBroker[] = ['kafka', 'rabbitmq', 'redis']

/** What the runner needs to know of one cluster: how to reach it through the proxies, and whom to kill. */
export interface ChaosTarget {
  broker: ChaosBroker
  /** Pairs of [proxy port, cluster port]: every client connection goes through one of these. */
  proxied: Array<[number, number]>
  url: string
  brokerOptions: Record<string, unknown>
  /** The node that leads the run's traffic now (k2, r1, s3…), or undefined while none does. */
  leader(queue: string): Promise<string | undefined>
}

/** Runs scripts/cluster.sh with the caller's environment (ports, data folder). */
export async function cluster(...args: string[]): Promise<string> {
  const { stdout } = await run('bash', [clusterScript, ...args], { maxBuffer: 1 << 20, timeout: 300_000 })
  return stdout.trim()
}

async function clusterEnv(broker: ChaosBroker): Promise<Record<string, string>> {
  const env: Record<string, string> = {}
  for (const line of (await cluster('env', broker)).split('\n')) {
    const match = /^export (\w+)='(.*)'$/.exec(line)
    if (match) env[match[1] as string] = match[2] as string
  }
  return env
}

const ports = (text: string | undefined): number[] => (text ?? '').split(',').filter(Boolean).map(Number)
/** The proxy in front of cluster port P listens on P + 300 (cluster.sh advertises Kafka's PROXIED listener there). */
const proxyPort = (port: number) => port + 300
const hostList = (list: number[]) => list.map((port) => `127.0.0.1:${proxyPort(port)}`).join(',')

async function leaderOf(broker: ChaosBroker, ...args: string[]): Promise<string | undefined> {
  try {
    return (await cluster('leader', broker, ...args)) || undefined
  } catch {
    return undefined
  }
}

export async function chaosTarget(broker: ChaosBroker): Promise<ChaosTarget> {
  const env = await clusterEnv(broker)
  switch (broker) {
    case 'kafka': {
      const list = ports(env.ANYMQ_CLUSTER_KAFKA_PROXIED_PORTS)
      return {
        broker,
        proxied: list.map((port) => [proxyPort(port), port]),
        url: `kafka://${hostList(list)}`,
        brokerOptions: {},
        leader: (queue) => leaderOf('kafka', queue),
      }
    }
    case 'rabbitmq': {
      const list = ports(env.ANYMQ_CLUSTER_RABBITMQ_PORTS)
      return {
        broker,
        proxied: list.map((port) => [proxyPort(port), port]),
        url: `amqp://guest:guest@${hostList(list)}?queueType=quorum&heartbeat=5`,
        brokerOptions: { reconnectWaitMs: 60_000, reconnectMaxDelayMs: 1_000 },
        leader: (queue) => leaderOf('rabbitmq', queue),
      }
    }
    case 'redis': {
      const data = ports(env.ANYMQ_CLUSTER_REDIS_PORTS)
      const sentinels = ports(env.ANYMQ_CLUSTER_SENTINEL_PORTS)
      // Sentinel answers with the primary's own address; natMap sends the client to its proxy instead.
      const natMap = Object.fromEntries(data.map((port) => [`127.0.0.1:${port}`, { host: '127.0.0.1', port: proxyPort(port) }]))
      return {
        broker,
        proxied: [...data, ...sentinels].map((port) => [proxyPort(port), port]),
        url: `redis+sentinel://${hostList(sentinels)}/anymq?waitReplicas=1&waitTimeoutMs=5000`,
        brokerOptions: { natMap },
        leader: () => leaderOf('redis'),
      }
    }
  }
}
