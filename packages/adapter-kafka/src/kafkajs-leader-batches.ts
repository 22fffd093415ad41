import type { Message, TopicMessages } from 'kafkajs'
import { stablePartitioner } from './kafkajs-partitioner.js'

/** The part of kafkajs's internal Cluster that knows partition leaders. */
export interface LeaderMetadata {
  addMultipleTargetTopics(topics: string[]): Promise<void>
  findTopicPartitionMetadata(topic: string): Array<{ partitionId: number; leader: number }>
}

/**
 * Splits one produce call into one `sendBatch` per partition leader, each record with its partition
 * fixed.
 *
 * Why: within one `sendBatch`, kafkajs remembers which brokers answered and, on a retry, sends only to
 * brokers that have not. When a leader dies with a request in flight, its partitions move to another
 * broker — often one that already answered for its own partitions in the same call — and the moved
 * records are never sent again, while the call resolves: confirmed messages lost (seen with
 * `pnpm chaos kafka`, a node SIGKILLed under load). With one leader per call, a retry finds the
 * moved partitions on a broker that has not answered yet, and sends them.
 */
export async function splitByLeader(cluster: LeaderMetadata, topicMessages: readonly TopicMessages[]): Promise<TopicMessages[][]> {
  await cluster.addMultipleTargetTopics(topicMessages.map(({ topic }) => topic))
  const partitioner = stablePartitioner()
  const byLeader = new Map<number, Map<string, Message[]>>()
  for (const { topic, messages } of topicMessages) {
    const partitionMetadata = cluster.findTopicPartitionMetadata(topic)
    for (const message of messages) {
      let leader = -1
      if (partitionMetadata.length > 0) {
        const partition = partitioner({ topic, partitionMetadata: partitionMetadata as never, message })
        leader = partitionMetadata.find((entry) => entry.partitionId === partition)?.leader ?? -1
        message.partition = partition
      }
      let topics = byLeader.get(leader)
      if (!topics) byLeader.set(leader, (topics = new Map()))
      const list = topics.get(topic)
      if (list) list.push(message)
      else topics.set(topic, [message])
    }
  }
  return [...byLeader.values()].map((topics) => [...topics].map(([topic, messages]) => ({ topic, messages })))
}
