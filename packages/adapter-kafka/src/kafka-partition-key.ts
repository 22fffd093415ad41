/** Names one partition of one topic as a Map or Set key. */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`
}

/**
 * {@link partitionKey}, keeping the last key made: records come in runs of one partition, and a
 * record handed over per call (the platformatic driver's flowing stream) asks for the same key
 * thousands of times in a row.
 */
export class PartitionKeys {
  private topic = ''
  private partition = -1
  private key = ''

  of(topic: string, partition: number): string {
    if (topic !== this.topic || partition !== this.partition) {
      this.topic = topic
      this.partition = partition
      this.key = partitionKey(topic, partition)
    }
    return this.key
  }
}
