import {
  type AttributeValue,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb'
import { isConditionFailed, isResourceInUse, isResourceMissing } from './kinesis-errors.js'
import { type Checkpoint, checkpointText, type Lease, type LeaseStore, parseCheckpoint } from './kinesis-lease.js'

/**
 * A consumer group's leases in a DynamoDB table, one item per shard, in the KCL's shape: `leaseKey`
 * (the shard id, hash key), `leaseOwner`, `leaseCounter`, `checkpoint`, `parentShardIds`. The table
 * is on demand (PAY_PER_REQUEST) and created by the first consumer of the group.
 */
export class DynamoLeaseTable implements LeaseStore {
  constructor(
    private readonly client: DynamoDBClient,
    readonly tableName: string,
  ) {}

  async exists(): Promise<boolean> {
    try {
      await this.client.send(new DescribeTableCommand({ TableName: this.tableName }))
      return true
    } catch (error) {
      if (isResourceMissing(error)) return false
      throw error
    }
  }

  async open(): Promise<void> {
    try {
      await this.client.send(
        new CreateTableCommand({
          TableName: this.tableName,
          AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
          KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
        }),
      )
    } catch (error) {
      if (!isResourceInUse(error)) throw error
    }
    // AWS creates tables asynchronously; moto at once.
    for (;;) {
      const described = await this.client.send(new DescribeTableCommand({ TableName: this.tableName }))
      if (described.Table?.TableStatus === 'ACTIVE') return
      await new Promise((resolve) => setTimeout(resolve, 500))
    }
  }

  async list(): Promise<Lease[]> {
    const leases: Lease[] = []
    let start: Record<string, AttributeValue> | undefined
    do {
      const page = await this.client.send(new ScanCommand({ TableName: this.tableName, ConsistentRead: true, ExclusiveStartKey: start }))
      for (const item of page.Items ?? []) leases.push(leaseOf(item))
      start = page.LastEvaluatedKey
    } while (start)
    return leases
  }

  async create(lease: Lease): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            leaseKey: { S: lease.shardId },
            leaseCounter: { N: String(lease.counter) },
            checkpoint: { S: checkpointText(lease.checkpoint) },
            parentShardIds: { S: JSON.stringify(lease.parentShardIds) },
          },
          ConditionExpression: 'attribute_not_exists(leaseKey)',
        }),
      )
      return true
    } catch (error) {
      if (isConditionFailed(error)) return false
      throw error
    }
  }

  async take(lease: Lease, owner: string): Promise<Lease | undefined> {
    const ok = await this.conditional(lease, 'SET leaseOwner = :owner, leaseCounter = :next REMOVE handoffTo', { ':owner': { S: owner } })
    return ok ? { ...lease, owner, counter: lease.counter + 1, handoffTo: undefined } : undefined
  }

  async renew(lease: Lease, checkpoint: Checkpoint): Promise<Lease | undefined> {
    const ok = await this.conditional(lease, 'SET leaseCounter = :next, checkpoint = :checkpoint', { ':checkpoint': { S: checkpointText(checkpoint) } })
    return ok ? { ...lease, counter: lease.counter + 1, checkpoint } : undefined
  }

  async release(lease: Lease, checkpoint: Checkpoint): Promise<void> {
    await this.conditional(lease, 'SET leaseCounter = :next, checkpoint = :checkpoint REMOVE leaseOwner, handoffTo', {
      ':checkpoint': { S: checkpointText(checkpoint) },
    })
  }

  async requestHandoff(lease: Lease, to: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { leaseKey: { S: lease.shardId } },
          UpdateExpression: 'SET handoffTo = :to',
          ConditionExpression: 'leaseCounter = :counter',
          ExpressionAttributeValues: { ':to': { S: to }, ':counter': { N: String(lease.counter) } },
        }),
      )
      return true
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || isConditionFailed(error)) return false
      throw error
    }
  }

  async advance(lease: Lease, checkpoint: Checkpoint): Promise<boolean> {
    return this.conditional(lease, 'SET leaseCounter = :next, checkpoint = :checkpoint', { ':checkpoint': { S: checkpointText(checkpoint) } })
  }

  async drop(): Promise<void> {
    try {
      await this.client.send(new DeleteTableCommand({ TableName: this.tableName }))
    } catch (error) {
      if (!isResourceMissing(error)) throw error
    }
  }

  /** An update that applies only while the lease's counter is still the one the caller saw. */
  private async conditional(lease: Lease, update: string, values: Record<string, AttributeValue>): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: { leaseKey: { S: lease.shardId } },
          UpdateExpression: update,
          ConditionExpression: 'leaseCounter = :counter',
          ExpressionAttributeValues: { ...values, ':counter': { N: String(lease.counter) }, ':next': { N: String(lease.counter + 1) } },
        }),
      )
      return true
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException || isConditionFailed(error)) return false
      throw error
    }
  }
}

function leaseOf(item: Record<string, AttributeValue>): Lease {
  let parents: string[] = []
  try {
    parents = JSON.parse(item.parentShardIds?.S ?? '[]') as string[]
  } catch {
    parents = []
  }
  return {
    shardId: item.leaseKey?.S ?? '',
    owner: item.leaseOwner?.S,
    counter: Number(item.leaseCounter?.N ?? 0),
    checkpoint: parseCheckpoint(item.checkpoint?.S ?? 'TRIM_HORIZON'),
    parentShardIds: parents,
    handoffTo: item.handoffTo?.S,
  }
}
