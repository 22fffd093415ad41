import { RedisClient, type RedisClientOptions } from '@redis/client'

/**
 * Builds clients of one class: `createClient` builds a new class with every command on each call
 * (about 75 ms of CPU on this machine), which a requester or consumer opening its connection paid.
 */
const clientOfOneClass = RedisClient.factory({ RESP: 2 } as const)

/**
 * A RESP2 client (the same reply shapes as ioredis', which the adapter reads) with no per-command
 * timeout: node-redis 6 arms a 5 s `AbortSignal.timeout` timer for every command by default, a cost
 * per message, and a timed-out XADD would be a send that may or may not be stored. Blocking reads set
 * their own bound (`CallOptions.blockMs`). Every node-redis client of the adapter is one of these:
 * data nodes' and Sentinels'.
 */
export function resp2Client(options: Omit<RedisClientOptions, 'RESP' | 'commandOptions'>) {
  return clientOfOneClass({ ...options, RESP: 2, commandOptions: { timeout: 0 } } as Parameters<typeof clientOfOneClass>[0])
}

export type NodeRedisClient = ReturnType<typeof resp2Client>
