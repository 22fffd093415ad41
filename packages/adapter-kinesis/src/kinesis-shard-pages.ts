/**
 * Empty pages in a row a scan of a shard reads before it stops short. Kinesis answers GetRecords with
 * an empty page while the iterator crosses a stretch of the shard without records (trimmed, or a quiet
 * time), with MillisBehindLatest > 0 and the records after it still to come.
 */
export const maxEmptyPagesInARow = 50

/** What a scan needs of one GetRecords answer. */
export interface ShardPage {
  Records?: readonly unknown[]
  NextShardIterator?: string
  MillisBehindLatest?: number
}

/**
 * Whether a scan that asked for `requested` records reads another page after `page`: not past the
 * end of a closed shard (no next iterator), not once it is at the tip (MillisBehindLatest 0 and a page
 * short of full), and not after `maxEmptyPagesInARow` empty pages.
 */
export function readsOn(page: ShardPage, requested: number, emptyPagesInARow: number): boolean {
  if (!page.NextShardIterator) return false
  const count = page.Records?.length ?? 0
  if ((page.MillisBehindLatest ?? 0) === 0 && count < requested) return false
  return count > 0 || emptyPagesInARow < maxEmptyPagesInARow
}
