/**
 * amqplib's muxer writes every frame waiting on its channels to the socket one `write` at a time, in
 * one pass (on `setImmediate`): with Nagle off, each write is its own system call, the largest single
 * cost of publishing in a CPU profile. Corking the socket for the length of that pass hands the kernel
 * the same bytes, in the same order, in one `writev`: nothing waits longer than the pass it was
 * already part of, and a pass that fills the socket's buffer still stops at `false` as before.
 */

/** The part of amqplib's (internal) Connection this needs: its muxer and the socket it writes to. */
interface MuxedConnection {
  muxer: { _readIncoming(): void }
  stream: { cork(): void; uncork(): void }
}

/** Installs the coalescing on one amqplib connection (`ChannelModel.connection`); a shape it does not know is left alone. */
export function coalesceFrameWrites(connection: unknown): void {
  const candidate = connection as Partial<MuxedConnection>
  const muxer = candidate.muxer
  const stream = candidate.stream
  if (typeof muxer?._readIncoming !== 'function' || typeof stream?.cork !== 'function' || typeof stream.uncork !== 'function') return
  const readIncoming = muxer._readIncoming
  muxer._readIncoming = function (this: unknown) {
    stream.cork()
    try {
      readIncoming.call(this)
    } finally {
      stream.uncork()
    }
  }
}
