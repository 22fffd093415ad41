import kafkajs, { type ICustomPartitioner } from 'kafkajs'
import { unkeyedPartitionHash } from './kafka-unkeyed-partition.js'
import { kafkaHeaders } from './kafka-wire.js'

const { Partitioners } = kafkajs

/**
 * The partitioner of the kafkajs producer. Keyed records: Java's murmur2 partitioner, so a key lands
 * on the same partition as with the Java client. Unkeyed records: a hash of the anymq message id,
 * not kafkajs' round-robin.
 *
 * Why: kafkajs partitions a batch again on every retry of `sendBatch`, and rolls the idempotent
 * producer's sequence numbers back when a produce request fails. If the failed request had in fact
 * been written (a leader killed after appending, a cut connection), the retry sends *other* unkeyed
 * records under the same sequence numbers, the broker takes them for duplicates of the written batch,
 * acknowledges them and drops them: confirmed messages lost (seen in `pnpm chaos kafka`). With a
 * partition that depends only on the record, a retry resends exactly what was written before.
 */
export const stablePartitioner: ICustomPartitioner = () => {
  const java = Partitioners.DefaultPartitioner()
  return (args) => {
    const { message, partitionMetadata } = args
    const id = message.headers?.[kafkaHeaders.id]
    if (message.key != null || message.partition != null || id == null || partitionMetadata.length === 0) return java(args)
    const partitions = partitionMetadata.map((partition) => partition.partitionId).sort((a, b) => a - b)
    return partitions[unkeyedPartitionHash(String(id)) % partitions.length] as number
  }
}
