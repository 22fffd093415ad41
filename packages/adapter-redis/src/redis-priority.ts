import type { RawEntry } from './redis-wire.js'

/**
 * Priority queues (`queue(name, { maxPriority })`), emulated. Redis streams are FIFO, so the messages
 * of a priority queue wait in a sorted set (`<stream>:waiting`) scored by priority, then by a counter
 * (one priority keeps the order sent), and the stream carries one *turn* entry per message instead of
 * the message. A consumer reads turns as it reads any entry (XREADGROUP, within its prefetch) and binds
 * each turn to the highest message waiting at that moment (`<stream>:taken`, turn id → message), in one
 * script. Everything else works on the turn entry exactly as on a plain one: its lease is the pending
 * entry's idle time, a released or crashed consumer's turn is reclaimed with the same message bound to
 * it (so the attempt grows as usual), and the ack deletes the turn and its binding. Retries and delayed
 * sends of a priority queue come back through the waiting set.
 */

/** The one field of a turn entry. */
export const turnField = 'anymq-turn'

/** Lowest score step between two priorities: room for 10^14 messages per priority, exact in a double. */
const levelStep = 100_000_000_000_000

/**
 * Lua helpers shared by the scripts that put messages into a priority queue: `levelOf(member)` reads
 * the priority from the member's token (`p<level>-…`, else 0), `enqueueByPriority(stream, member)`
 * adds the member to the waiting set and a turn to the stream.
 */
export const priorityLua = `
local function levelOf(member)
  local colon = string.find(member, ':', 1, true)
  local token = string.sub(member, colon + 1, colon + tonumber(string.sub(member, 1, colon - 1)))
  if string.sub(token, 1, 1) == 'p' then return tonumber(string.sub(token, 2, 2)) or 0 end
  return 0
end
local function enqueueByPriority(stream, member)
  local sequence = redis.call('INCR', stream .. ':waiting-seq')
  redis.call('ZADD', stream .. ':waiting', (9 - levelOf(member)) * ${levelStep} + sequence, member)
  redis.call('XADD', stream, '*', '${turnField}', '1')
end
`

/** Whether a raw stream entry is a turn of a priority queue rather than a message. */
export function isTurn(raw: RawEntry): boolean {
  const pairs = raw[1]
  return pairs !== null && pairs.length === 2 && String(pairs[0]) === turnField
}
