import { isUtf8 } from 'node:buffer'
import type { RedisArgument } from './redis-driver.js'

/** An argument as node-redis takes it. */
export type NodeRedisArgument = string | Buffer

/**
 * Up to this size, a Buffer argument that is valid UTF-8 goes to node-redis as a string: its encoder
 * writes a Buffer as three socket writes (the text before it, the bytes, the text after), where a
 * command of strings is one; the bytes on the wire are the same. Larger bodies stay Buffers: decoding
 * and copying a 1 KB body as text cost more than the writes it saved.
 */
const inlinedBufferBytes = 512

/** The arguments as node-redis takes them: strings and Buffers. Copies only when a number or a Buffer is among them. */
export function argumentsOf(args: readonly RedisArgument[]): NodeRedisArgument[] {
  let index = 0
  while (index < args.length && typeof args[index] === 'string') index++
  if (index === args.length) return args as NodeRedisArgument[]
  const out = new Array<NodeRedisArgument>(args.length)
  for (index = 0; index < args.length; index++) {
    const value = args[index] as RedisArgument
    out[index] = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : inlined(value)
  }
  return out
}

/** A small Buffer of valid UTF-8 as its text (decoding and encoding it again gives the same bytes); any other as it is. */
function inlined(value: Buffer): NodeRedisArgument {
  return value.length <= inlinedBufferBytes && isUtf8(value) ? value.toString('utf8') : value
}
