/**
 * The acks of one turn of the event loop, sent together on the next `setImmediate` (one XACK, one XDEL,
 * one socket write), and settled together: every ack of a flush gets the flush's one promise, where a
 * promise, its resolvers and an entry object per ack cost more than the XACK's share of the message.
 * The flush succeeds or fails as a whole, so nothing is lost by sharing it.
 */
export class AckBatch {
  private entryIds: string[] = []
  /** Entry ids among {@link entryIds} that are turns of a priority queue (their binding goes too). */
  private turns: string[] = []
  private flushing: Promise<void> | undefined

  /** `onFlush` sees each flush's promise once, so the consumer can wait for it on close. */
  constructor(
    private readonly flush: (entryIds: string[], turns: string[]) => Promise<void>,
    private readonly onFlush: (flushed: Promise<void>) => void,
  ) {}

  /** Resolves once the flush carrying this ack succeeded; rejects with its error. */
  add(entryId: string, turn: boolean): Promise<void> {
    this.entryIds.push(entryId)
    if (turn) this.turns.push(entryId)
    if (this.flushing === undefined) {
      this.flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.run())
      this.onFlush(this.flushing)
    }
    return this.flushing
  }

  private run(): Promise<void> {
    const { entryIds, turns } = this
    this.entryIds = []
    this.turns = []
    this.flushing = undefined
    return this.flush(entryIds, turns)
  }
}
