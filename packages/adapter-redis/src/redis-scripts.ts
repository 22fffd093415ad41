import { createHash } from 'node:crypto'
import type { CallOptions, RedisArgument, RedisConnection } from './redis-driver.js'
import { priorityLua } from './redis-priority.js'
import { fields } from './redis-wire.js'

/**
 * Lua scripts: each runs atomically in Redis, so a crash of this process between two of its steps
 * cannot lose or duplicate a message. They run with EVALSHA and fall back to EVAL after a Redis restart
 * emptied the script cache (see {@link runScript}).
 */

/** Splits a member written by `delayedMember()`: length-prefixed parts; the first is a unique token. */
const parseMember = `
local function parts(member)
  local out = {}
  local position = 1
  local size = #member
  while position <= size do
    local colon = string.find(member, ':', position, true)
    local length = tonumber(string.sub(member, position, colon - 1))
    out[#out + 1] = string.sub(member, colon + 1, colon + length)
    position = colon + length + 1
  end
  table.remove(out, 1)
  return out
end
`

/** Milliseconds since the epoch by the Redis server's clock, so that clients with skewed clocks agree on due times. */
const serverNow = `
local function now()
  local time = redis.call('TIME')
  return tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
end
`

const streamIds = `
local function split(id)
  local dash = string.find(id, '-', 1, true)
  return tonumber(string.sub(id, 1, dash - 1)), tonumber(string.sub(id, dash + 1)), string.sub(id, 1, dash - 1)
end
local function before(a, b)
  local am, as = split(a)
  local bm, bs = split(b)
  return am < bm or (am == bm and as < bs)
end
local function fields(list)
  local map = {}
  for index = 1, #list, 2 do map[list[index]] = list[index + 1] end
  return map
end
`

export const scripts = {
  /**
   * Moves due members of every delay set of a connection into their streams, oldest first per set, at most
   * `budget` messages in all, so that one poll is one command however many queues and subscriptions run;
   * into a priority queue's waiting set (with a turn in the stream) when its flag is '1'. Returns the
   * number moved; a full budget means more may be due.
   * KEYS: delay set and stream, per set. ARGV: budget, then per set its priority ('1'/'0').
   */
  anymqMoveDueMany: {
    numberOfKeys: -1,
    lua: `${parseMember}${serverNow}${priorityLua}
local budget = tonumber(ARGV[1])
local at = now()
local moved = 0
for set = 1, #KEYS / 2 do
  if moved >= budget then break end
  local delayed, stream = KEYS[set * 2 - 1], KEYS[set * 2]
  local due = redis.call('ZRANGEBYSCORE', delayed, '-inf', at, 'LIMIT', 0, budget - moved)
  for _, member in ipairs(due) do
    if ARGV[set + 1] == '1' then enqueueByPriority(stream, member) else redis.call('XADD', stream, '*', unpack(parts(member))) end
    redis.call('ZREM', delayed, member)
  end
  moved = moved + #due
end
return moved
`,
  },

  /**
   * Appends entries of the default layout (`body`, `anymq`) to one stream in one command, all or none as a
   * MULTI: no other command runs in between, Redis refuses a script over `maxmemory` before its first write
   * (never in the middle), and writes its XADDs to the AOF and the replicas as one MULTI/EXEC.
   * KEYS: stream. ARGV: per entry, its body and its `anymq` field.
   */
  anymqAppend: {
    numberOfKeys: 1,
    lua: `
for index = 1, #ARGV, 2 do
  redis.call('XADD', KEYS[1], '*', '${fields.body}', ARGV[index], '${fields.packed}', ARGV[index + 1])
end
return 1
`,
  },

  /**
   * Writes one message unless its `dedupeId` was written to the same destination within the window:
   * the marker key is checked first and set (expiring after the window) only once the write succeeded,
   * so a write that fails leaves no marker behind and a retry of the send is not dropped.
   * KEYS: the marker key, the key written. ARGV: window ms, the write ('add': the XADD arguments after
   * its key; 'schedule': delay ms, member; 'priority': member). Returns 1 written, 0 dropped.
   */
  anymqOnce: {
    numberOfKeys: 2,
    lua: `${serverNow}${priorityLua}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if ARGV[2] == 'add' then
  redis.call('XADD', KEYS[2], unpack(ARGV, 3))
elseif ARGV[2] == 'schedule' then
  redis.call('ZADD', KEYS[2], now() + tonumber(ARGV[3]), ARGV[4])
else
  enqueueByPriority(KEYS[2], ARGV[3])
end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
return 1
`,
  },

  /**
   * Stores a delayed message in its delay set, due `delay` ms from now by the server's clock.
   * KEYS: delay set. ARGV: delay ms, member.
   */
  anymqSchedule: {
    numberOfKeys: 1,
    lua: `${serverNow}
return redis.call('ZADD', KEYS[1], now() + tonumber(ARGV[1]), ARGV[2])
`,
  },

  /**
   * Settles an entry by republishing a copy: into the stream at once when there is no delay (a priority
   * queue's waiting set when `priority` is '1'), else into the delay set; then acks the original (and
   * deletes it from a stream no other group reads), and forgets the message bound to it if it was a turn.
   * KEYS: source stream, delay set, target stream. ARGV: group, entry id, delay ms, member, delete ('1'/'0'), priority ('1'/'0').
   */
  anymqRepublish: {
    numberOfKeys: 3,
    lua: `${parseMember}${serverNow}${priorityLua}
if tonumber(ARGV[3]) > 0 then
  redis.call('ZADD', KEYS[2], now() + tonumber(ARGV[3]), ARGV[4])
elseif ARGV[6] == '1' then
  enqueueByPriority(KEYS[3], ARGV[4])
else
  redis.call('XADD', KEYS[3], '*', unpack(parts(ARGV[4])))
end
redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])
if ARGV[5] == '1' then
  redis.call('XDEL', KEYS[1], ARGV[2])
  redis.call('HDEL', KEYS[1] .. ':taken', ARGV[2])
end
return 1
`,
  },

  /**
   * Puts one message into a priority queue: the member into the waiting set, a turn into the stream.
   * KEYS: stream. ARGV: member (its token carries the priority).
   */
  anymqEnqueueByPriority: {
    numberOfKeys: 1,
    lua: `${priorityLua}
enqueueByPriority(KEYS[1], ARGV[1])
return 1
`,
  },

  /**
   * Binds turns of a priority queue to messages: a turn already bound (reclaimed after a release or a
   * crash) keeps its message; a new one takes the highest message waiting. Returns one member per
   * turn, in order, or false for a turn with nothing left to take (the waiting set was emptied).
   * KEYS: stream. ARGV: turn entry ids.
   */
  anymqTakeTurns: {
    numberOfKeys: 1,
    lua: `
local taken = KEYS[1] .. ':taken'
local result = {}
for index = 1, #ARGV do
  local member = redis.call('HGET', taken, ARGV[index])
  if not member then
    local popped = redis.call('ZPOPMIN', KEYS[1] .. ':waiting', 1)
    if popped[1] then
      member = popped[1]
      redis.call('HSET', taken, ARGV[index], member)
    end
  end
  result[index] = member
end
return result
`,
  },

  /**
   * Claims entries of the group idle for at least `min idle` ms (a crashed or stalled consumer, or one
   * that released them) for this consumer, oldest first, with their new delivery counts. Entries
   * deleted meanwhile are dropped from the pending list. With `exclude own`, entries this consumer
   * holds already are skipped (a takeover claims everything else).
   * KEYS: stream. ARGV: group, consumer, min idle ms, count, start id (exclusive after the first call: '(id'), exclude own ('1'/'0').
   * Returns {cursor, {{id, fields, deliveries}, …}}: cursor is the last id looked at, '' when there is nothing after it.
   */
  anymqReclaim: {
    numberOfKeys: 1,
    lua: `
local count = tonumber(ARGV[4])
local pending = redis.call('XPENDING', KEYS[1], ARGV[1], 'IDLE', tonumber(ARGV[3]), ARGV[5], '+', count)
local cursor = ''
if #pending == count then cursor = '(' .. pending[#pending][1] end
local ids = {}
local deliveries = {}
for _, item in ipairs(pending) do
  if ARGV[6] ~= '1' or item[2] ~= ARGV[2] then
    ids[#ids + 1] = item[1]
    deliveries[item[1]] = item[4]
  end
end
if #ids == 0 then return {cursor, {}} end
local claimed = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]), unpack(ids))
local result = {}
local seen = {}
for _, entry in ipairs(claimed) do
  if entry and entry[1] then
    seen[entry[1]] = true
    result[#result + 1] = {entry[1], entry[2], deliveries[entry[1]] + 1}
  end
end
for _, id in ipairs(ids) do
  if not seen[id] then
    local still = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
    if still[1] and still[1][2] == ARGV[2] then redis.call('XACK', KEYS[1], ARGV[1], id) end
  end
end
return {cursor, result}
`,
  },

  /**
   * Takes or renews the single-active-consumer lock of an ordered queue for `ttl` ms.
   * KEYS: lock. ARGV: consumer, ttl ms. Returns 1 when renewed, 2 when newly taken, 0 when another consumer holds it.
   */
  anymqHoldLock: {
    numberOfKeys: 1,
    lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
  return 1
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', tonumber(ARGV[2])) then return 2 end
return 0
`,
  },

  /** Gives up the lock if this consumer holds it. KEYS: lock. ARGV: consumer. */
  anymqDropLock: {
    numberOfKeys: 1,
    lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`,
  },

  /**
   * Resets the idle time of entries this consumer still holds (a lease extension), without counting a
   * delivery. Entries another consumer took over meanwhile are left alone.
   * KEYS: stream. ARGV: group, consumer, ids…. Returns the ids still held.
   */
  anymqTouch: {
    numberOfKeys: 1,
    lua: `
local held = {}
for index = 3, #ARGV do
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[index], ARGV[index], 1)
  if pending[1] and pending[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[index], 'JUSTID')
    held[#held + 1] = ARGV[index]
  end
end
return held
`,
  },

  /**
   * Gives entries back: makes them look idle since 1970 so that the next reclaim by any consumer takes
   * them at once, and restores their delivery count so that the attempt does not grow.
   * KEYS: stream. ARGV: group, consumer, then id, delivery count pairs.
   */
  anymqRelease: {
    numberOfKeys: 1,
    lua: `
local released = 0
for index = 3, #ARGV, 2 do
  local id = ARGV[index]
  local pending = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)
  if pending[1] and pending[1][2] == ARGV[2] then
    redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id, 'TIME', 1, 'RETRYCOUNT', math.max(0, tonumber(ARGV[index + 1]) - 1), 'JUSTID')
    released = released + 1
  end
end
return released
`,
  },

  /**
   * Trims a topic stream below the oldest entry any subscription still needs (pending, or not yet
   * delivered), and never above the retention cutoff. Ephemeral groups whose consumers have all been
   * silent longer than the limit (a crashed process) are destroyed first, with their delay set.
   * KEYS: topic stream. ARGV: retention cutoff id, ephemeral group prefix, ephemeral idle limit ms.
   */
  anymqTrimTopic: {
    numberOfKeys: 1,
    lua: `${streamIds}
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local cutoff = ARGV[1]
for _, raw in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local group = fields(raw)
  local alive = true
  if string.sub(group['name'], 1, #ARGV[2]) == ARGV[2] then
    alive = false
    for _, consumer in ipairs(redis.call('XINFO', 'CONSUMERS', KEYS[1], group['name'])) do
      if tonumber(fields(consumer)['idle']) < tonumber(ARGV[3]) then alive = true end
    end
    if not alive then
      redis.call('XGROUP', 'DESTROY', KEYS[1], group['name'])
      redis.call('DEL', KEYS[1] .. ':s:' .. group['name'] .. ':delayed')
    end
  end
  if alive then
    local needed
    if tonumber(group['pending']) > 0 then
      needed = redis.call('XPENDING', KEYS[1], group['name'])[2]
    else
      local _, sequence, milliseconds = split(group['last-delivered-id'])
      needed = milliseconds .. '-' .. string.format('%.0f', sequence + 1)
    end
    if before(needed, cutoff) then cutoff = needed end
  end
end
return redis.call('XTRIM', KEYS[1], 'MINID', '~', cutoff)
`,
  },

  /**
   * Removes a consumer from its group when it holds nothing (entries it still holds would become
   * unclaimable if it were deleted).
   * KEYS: stream. ARGV: group, consumer.
   */
  anymqRemoveConsumer: {
    numberOfKeys: 1,
    lua: `
local ok, pending = pcall(redis.call, 'XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2])
if not ok then return 0 end
if #pending == 0 then return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2]) end
return 0
`,
  },
} as const

type ScriptName = keyof typeof scripts

const digests = new Map<ScriptName, string>()

function digestOf(name: ScriptName): string {
  let digest = digests.get(name)
  if (digest === undefined) {
    digest = createHash('sha1').update(scripts[name].lua).digest('hex')
    digests.set(name, digest)
  }
  return digest
}

/**
 * Larger bodies go as a MULTI: Redis copies a script's arguments into Lua and again into each XADD, a
 * cost per byte (Redis CPU per message, ioredis, script against MULTI: +4 µs at 1 KB, +13 µs at 8 KB,
 * +37 µs at 16 KB; `sendBatch` of 64 KB lost a third of its msg/s), where the MULTI's is per command.
 */
const appendableBodyBytes = 4096

/**
 * The arguments of `anymqAppend` (the stream, then each entry's body and `anymq` field) for commands that
 * are all `XADD <stream> * body … anymq …` into one stream, bodies of up to {@link appendableBodyBytes};
 * `undefined` for any other command among them.
 */
export function appendArguments(commands: ReadonlyArray<readonly RedisArgument[] | object>): RedisArgument[] | undefined {
  const first = commands[0]
  if (!Array.isArray(first)) return undefined
  const stream = first[1] as RedisArgument
  const args = new Array<RedisArgument>(1 + 2 * commands.length)
  args[0] = stream
  let at = 1
  for (const command of commands) {
    if (!Array.isArray(command) || command.length !== 7 || command[0] !== 'XADD' || command[1] !== stream || command[2] !== '*') return undefined
    const body = command[4] as RedisArgument
    if (command[3] !== fields.body || command[5] !== fields.packed || (body as Buffer | string).length > appendableBodyBytes) return undefined
    args[at++] = body
    args[at++] = command[6] as RedisArgument
  }
  return args
}

/** The command that runs a script inside a MULTI: EVAL, as a NOSCRIPT inside a transaction could not be retried. */
export function scriptCommand(name: ScriptName, args: readonly RedisArgument[]): RedisArgument[] {
  return ['EVAL', scripts[name].lua, scripts[name].numberOfKeys, ...args]
}

/**
 * Runs a script with EVALSHA (the hash only, not the text, per call) and falls back to EVAL after a
 * Redis restart or a SCRIPT FLUSH emptied the script cache. `args` are the keys, then the arguments.
 */
export async function runScript(
  connection: RedisConnection,
  name: ScriptName,
  args: readonly RedisArgument[],
  options?: CallOptions,
  /** For a script of a variable number of keys (`numberOfKeys: -1`). */
  keyCount?: number,
): Promise<unknown> {
  const numberOfKeys = keyCount ?? scripts[name].numberOfKeys
  try {
    return await connection.call(['EVALSHA', digestOf(name), numberOfKeys, ...args], options)
  } catch (error) {
    if (!String((error as Error).message).startsWith('NOSCRIPT')) throw error
    return connection.call(['EVAL', scripts[name].lua, numberOfKeys, ...args], options)
  }
}

/** The scripts, typed, on one connection. */
export class RedisScripts {
  constructor(private readonly connection: RedisConnection) {}

  /** Moves due messages of every given delay set, `budget` at most in all; resolves with the number moved. */
  async moveDueMany(sets: ReadonlyArray<{ delayed: string; stream: string; priority: boolean }>, budget: number): Promise<number> {
    const keys: string[] = []
    const args: RedisArgument[] = [budget]
    for (const set of sets) {
      keys.push(set.delayed, set.stream)
      args.push(set.priority ? '1' : '0')
    }
    return Number(await runScript(this.connection, 'anymqMoveDueMany', [...keys, ...args], undefined, keys.length))
  }

  schedule(delayed: string, delayMs: number, member: Buffer): Promise<unknown> {
    return runScript(this.connection, 'anymqSchedule', [delayed, delayMs, member])
  }

  republish(
    source: string,
    delayed: string,
    target: string,
    group: string,
    entryId: string,
    delayMs: number,
    member: Buffer,
    remove: '1' | '0',
    priority: boolean,
  ): Promise<unknown> {
    return runScript(this.connection, 'anymqRepublish', [source, delayed, target, group, entryId, delayMs, member, remove, priority ? '1' : '0'])
  }

  /** The members bound to these turns of a priority queue, `null` for a turn with nothing to take. */
  async takeTurns(stream: string, turnIds: readonly string[]): Promise<Array<Buffer | null>> {
    const reply = (await runScript(this.connection, 'anymqTakeTurns', [stream, ...turnIds], { binary: true })) as Array<Buffer | null | false>
    return reply.map((member) => (member === null || member === false ? null : member))
  }

  async reclaim(
    stream: string,
    group: string,
    consumer: string,
    minIdleMs: number,
    count: number,
    start: string,
    excludeOwn: '1' | '0',
  ): Promise<[Buffer, Array<[Buffer, Buffer[], number]>]> {
    return (await runScript(this.connection, 'anymqReclaim', [stream, group, consumer, minIdleMs, count, start, excludeOwn], { binary: true })) as [
      Buffer,
      Array<[Buffer, Buffer[], number]>,
    ]
  }

  async holdLock(lock: string, consumer: string, ttlMs: number): Promise<number> {
    return Number(await runScript(this.connection, 'anymqHoldLock', [lock, consumer, ttlMs]))
  }

  dropLock(lock: string, consumer: string): Promise<unknown> {
    return runScript(this.connection, 'anymqDropLock', [lock, consumer])
  }

  touch(stream: string, group: string, consumer: string, ids: readonly string[]): Promise<unknown> {
    return runScript(this.connection, 'anymqTouch', [stream, group, consumer, ...ids])
  }

  release(stream: string, group: string, consumer: string, idsAndCounts: ReadonlyArray<string | number>): Promise<unknown> {
    return runScript(this.connection, 'anymqRelease', [stream, group, consumer, ...idsAndCounts])
  }

  trimTopic(stream: string, cutoff: string, ephemeralPrefix: string, ephemeralIdleMs: number): Promise<unknown> {
    return runScript(this.connection, 'anymqTrimTopic', [stream, cutoff, ephemeralPrefix, ephemeralIdleMs])
  }

  removeConsumer(stream: string, group: string, consumer: string): Promise<unknown> {
    return runScript(this.connection, 'anymqRemoveConsumer', [stream, group, consumer])
  }
}
