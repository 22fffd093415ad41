import type { Checkpoint, Lease, LeaseStore } from './kinesis-lease.js'

/**
 * Leases kept in memory, for groups only one process ever reads (an ephemeral subscriber, a reply
 * inbox): the same contract as the DynamoDB table without a table to create and delete.
 */
export class LocalLeases implements LeaseStore {
  private readonly leases = new Map<string, Lease>()

  async open(): Promise<void> {}

  async exists(): Promise<boolean> {
    return true
  }

  async list(): Promise<Lease[]> {
    return [...this.leases.values()].map((lease) => ({ ...lease }))
  }

  async create(lease: Lease): Promise<boolean> {
    if (this.leases.has(lease.shardId)) return false
    this.leases.set(lease.shardId, { ...lease })
    return true
  }

  async take(lease: Lease, owner: string): Promise<Lease | undefined> {
    return this.update(lease, { owner, handoffTo: undefined })
  }

  async renew(lease: Lease, checkpoint: Checkpoint): Promise<Lease | undefined> {
    return this.update(lease, { checkpoint })
  }

  async release(lease: Lease, checkpoint: Checkpoint): Promise<void> {
    this.update(lease, { checkpoint, owner: undefined, handoffTo: undefined })
  }

  async requestHandoff(lease: Lease, to: string): Promise<boolean> {
    const current = this.leases.get(lease.shardId)
    if (!current || current.counter !== lease.counter) return false
    this.leases.set(lease.shardId, { ...current, handoffTo: to })
    return true
  }

  async advance(lease: Lease, checkpoint: Checkpoint): Promise<boolean> {
    return this.update(lease, { checkpoint }) !== undefined
  }

  async drop(): Promise<void> {
    this.leases.clear()
  }

  private update(lease: Lease, changes: Partial<Lease>): Lease | undefined {
    const current = this.leases.get(lease.shardId)
    if (!current || current.counter !== lease.counter) return undefined
    const next = { ...current, ...changes, counter: current.counter + 1 }
    this.leases.set(lease.shardId, next)
    return { ...next }
  }
}
