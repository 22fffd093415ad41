import type { RedisConnection } from './redis-driver.js'
import { isConnectionProblem } from './redis-errors.js'

/**
 * Which pub/sub carries replies outside the AOF (see `redis-inbox.ts`): sharded pub/sub (`SPUBLISH` /
 * `SSUBSCRIBE`, Redis 7.0 and newer) where the server has it, else plain pub/sub (`PUBLISH` /
 * `SUBSCRIBE`). Sharded first, because `PUBLISH` also counts clients subscribed to a matching pattern
 * (a `PSUBSCRIBE *` debugging session): with one of those, a reply to a requester that does not
 * listen would count as received, and the responder would not fall back to the inbox stream. A shard
 * channel matches no pattern, so `SPUBLISH` counts only the requester's own subscription.
 */
export type ReplyPubSub = 'sharded' | 'plain'

/**
 * Asks the server once whether it knows `SPUBLISH` (`COMMAND INFO` answers `nil` for a command it does
 * not have). A user whose ACL forbids `COMMAND` gets `plain`; an outage fails (asked again next time).
 */
export async function replyPubSubOf(commands: RedisConnection): Promise<ReplyPubSub> {
  try {
    const [info] = (await commands.call(['COMMAND', 'INFO', 'SPUBLISH'])) as [unknown]
    return info === null || info === undefined ? 'plain' : 'sharded'
  } catch (error) {
    if (isConnectionProblem(error)) throw error
    return 'plain'
  }
}
