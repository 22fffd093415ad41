import { ConfigError, type Logger } from '@anymq/core/spi'
import type { KafkaDriver } from './kafka-driver.js'
import { retryTransient, wrapError } from './kafka-errors.js'
import { naming } from './kafka-wire.js'

/** A destination with a redelivery topic of its own: a queue, or a named subscription of a topic. */
export type RedeliveryOwner = { kind: 'queue'; queue: string } | { kind: 'subscription'; topic: string; subscription: string }

/** What comes before '.retry' in the owner's redelivery topic: `<queue>`, `<topic>.<subscription>`. */
function redeliveryKey(owner: RedeliveryOwner): string {
  return owner.kind === 'queue' ? owner.queue : `${owner.topic}.${owner.subscription}`
}

/** The first character of any anymq name (core's name rule): a split that leaves another first character names nothing. */
const nameStart = /^[A-Za-z0-9]/

/**
 * Every destination whose redelivery topic is `<key>.retry`: queue `key`, and subscription `s` of
 * topic `t` for each way `key` reads as `t.s` (`a.b.c`: subscription `b.c` of topic `a` and
 * subscription `c` of topic `a.b`).
 */
export function ownersOf(key: string): RedeliveryOwner[] {
  const owners: RedeliveryOwner[] = [{ kind: 'queue', queue: key }]
  for (let dot = key.indexOf('.'); dot !== -1; dot = key.indexOf('.', dot + 1)) {
    const subscription = key.slice(dot + 1)
    if (dot > 0 && nameStart.test(subscription)) owners.push({ kind: 'subscription', topic: key.slice(0, dot), subscription })
  }
  return owners
}

function groupOf(owner: RedeliveryOwner): string {
  return owner.kind === 'queue' ? naming.queueGroup(owner.queue) : naming.subscriptionGroup(owner.topic, owner.subscription)
}

function sameOwner(a: RedeliveryOwner, b: RedeliveryOwner): boolean {
  return groupOf(a) === groupOf(b)
}

function describeOwner(owner: RedeliveryOwner): string {
  return owner.kind === 'queue' ? `queue '${owner.queue}'` : `subscription '${owner.subscription}' of topic '${owner.topic}'`
}

/** Why `owner` and `other` cannot both exist (`evidence`: how `other` is known to), and what is allowed. */
function collisionText(owner: RedeliveryOwner, other: RedeliveryOwner, evidence: string): string {
  return (
    `${describeOwner(owner)} and ${describeOwner(other)} would share the Kafka topic '${naming.queueRetryTopic(redeliveryKey(owner))}' ` +
    `(a queue's redelivery topic is '<queue>.retry', a subscription's '<topic>.<subscription>.retry'), so each would receive the other's retries and delayed messages; ` +
    `${describeOwner(other)} exists (${evidence}). A queue may not be named '<topic>.<subscription>' of an existing subscription, ` +
    `and a subscription's '<topic>.<subscription>' may not name an existing queue or spell another subscription's: ` +
    `rename one (a '-' instead of the '.', for instance), or delete the other first`
  )
}

/** The refusal of `owner` because `other`, which would share its redelivery topic, exists. */
export function redeliveryCollision(owner: RedeliveryOwner, other: RedeliveryOwner, evidence: string): ConfigError {
  return new ConfigError([{ field: owner.kind === 'queue' ? 'queue.name' : 'subscription.name', message: collisionText(owner, other, evidence) }], {
    adapter: 'kafka',
  })
}

interface Claim {
  owner: RedeliveryOwner
  checked: Promise<void>
  done: boolean
  /** The other destination of a pair made before this check, which goes on sharing the topic with `owner`. */
  partner?: RedeliveryOwner
}

/**
 * Who owns each redelivery topic this connection uses. The names are kept as they are (existing
 * deployments read their topics by them); a destination whose redelivery topic another existing
 * destination already uses is refused when it is first used, before anything is made. Known from
 * the cluster (the other's consumer group, or a queue's two topics while it has no group yet) and
 * from what this connection claimed itself.
 */
export class RedeliveryOwners {
  /** Per redelivery key: the destination this connection took (or is checking) as its owner. */
  private readonly claims = new Map<string, Claim>()

  constructor(
    private readonly driver: KafkaDriver,
    private readonly logger: Logger,
  ) {}

  /**
   * Resolves once `owner` is known to be alone on its redelivery topic; `undefined` when it already is
   * (nothing to wait for on a send). Throws or rejects with a `ConfigError` naming both destinations.
   */
  claim(owner: RedeliveryOwner): Promise<void> | undefined {
    const key = redeliveryKey(owner)
    const claim = this.claims.get(key)
    if (claim !== undefined) {
      // The same object on every send to a queue: no group names built to compare.
      if (claim.owner === owner || sameOwner(claim.owner, owner)) return claim.done ? undefined : claim.checked
      // Decided once the first one's check is: refused with it, the cluster is asked anew.
      const again = () => this.claim(owner)
      if (!claim.done) return claim.checked.then(again, again)
      if (claim.partner !== undefined && sameOwner(claim.partner, owner)) return undefined
      throw redeliveryCollision(owner, claim.owner, 'used on this connection')
    }
    const made: Claim = { owner, checked: Promise.resolve(), done: false }
    made.checked = this.check(owner, key).then(
      (partner) => {
        made.partner = partner
        made.done = true
      },
      (error: unknown) => {
        // Refused or not checked: a later call asks the cluster again (the other may be deleted by then).
        if (this.claims.get(key) === made) this.claims.delete(key)
        throw error
      },
    )
    this.claims.set(key, made)
    return made.checked
  }

  /** After `delete()`: the destination no longer holds its redelivery topic. */
  forget(owner: RedeliveryOwner): void {
    const key = redeliveryKey(owner)
    if (sameOwner(this.claims.get(key)?.owner ?? owner, owner)) this.claims.delete(key)
  }

  /** After a topic's `delete()`: its subscriptions are gone with it. */
  forgetSubscriptionsOf(topic: string): void {
    for (const [key, claim] of this.claims) if (claim.owner.kind === 'subscription' && claim.owner.topic === topic) this.claims.delete(key)
  }

  /** Refuses `owner` if another destination holds its redelivery topic; resolves with that one if both were there before. */
  private async check(owner: RedeliveryOwner, key: string): Promise<RedeliveryOwner | undefined> {
    let groups: Set<string>
    let topics: Set<string>
    try {
      const [listedGroups, listedTopics] = await retryTransient(() => Promise.all([this.driver.listGroups(), this.driver.listTopics()]))
      groups = new Set(listedGroups)
      topics = new Set(listedTopics)
    } catch (error) {
      throw wrapError(error, `checking that no other queue or subscription uses the redelivery topic of ${describeOwner(owner)}`)
    }
    const other = ownersOf(key).find((candidate) => !sameOwner(candidate, owner) && groups.has(groupOf(candidate)))
    if (other !== undefined) {
      const evidence = `consumer group '${groupOf(other)}'`
      // Both groups exist: a pair made before this check (by an older anymq). It already shares the topic;
      // refusing it now would stop a running deployment, so it carries on as before and is told how to part.
      if (!groups.has(groupOf(owner))) throw redeliveryCollision(owner, other, evidence)
      this.logger.warn(collisionText(owner, other, evidence))
      return other
    }
    // A queue that was sent to and never consumed has no group yet, only its two topics. A topic of the
    // same name with subscriptions of its own is a topic, not a queue; and a subscription whose group
    // exists made the redelivery topic itself.
    if (owner.kind === 'subscription' && !groups.has(groupOf(owner)) && topics.has(key) && topics.has(naming.queueRetryTopic(key))) {
      const topicPrefix = naming.subscriptionGroup(key, '')
      const isTopic = [...groups].some((group) => group.startsWith(topicPrefix))
      if (!isTopic) throw redeliveryCollision(owner, { kind: 'queue', queue: key }, `topics '${key}' and '${naming.queueRetryTopic(key)}'`)
    }
    return undefined
  }
}
