import { type AdminCapabilities, type Anymq, AnymqError, type DeadLetters, type DestinationStats } from '@anymq/core'

/** A queue, or one named subscription of a topic: what the dashboard shows a row for. */
export type DashboardTarget = { kind: 'queue'; name: string } | { kind: 'subscription'; topic: string; name: string }

/** One row of the destinations table: its depths, or why there are none. */
export interface DestinationRow {
  target: DashboardTarget
  /** `orders`, or `order-events/invoicing`. */
  label: string
  /** Whether this row is itself a dead-letter queue (it has no dead letters of its own). */
  deadLetterQueue: boolean
  stats: DestinationStats | undefined
  /** Why `stats` is missing: the broker cannot tell, or the call failed (message with secrets redacted by core). */
  unavailable: string | undefined
}

/** Everything the page shows at one moment. */
export interface DashboardState {
  adapter: string
  /** The broker URL with its password and secrets replaced by `***`. */
  url: string
  readOnly: boolean
  /** Which admin calls the adapter serves; the page offers only those. */
  admin: AdminCapabilities
  /** Set when the adapter cannot list what anymq made: then only the names given on the command line are shown. */
  listingNote: string | undefined
  rows: DestinationRow[]
  topics: string[]
  /** Milliseconds since the epoch when the counts were read. */
  at: number
}

/** One dead letter as the page shows it: body as text, times as ISO strings. */
export interface DeadLetterView {
  id: string
  key: string | undefined
  /** The decoded body as JSON text, or a note saying it could not be decoded. */
  body: string
  headers: Record<string, string>
  error: { name: string; message: string }
  attempts: number
  firstFailureAt: string | undefined
  lastFailureAt: string | undefined
  timestamp: string
}

const noAdmin: AdminCapabilities = { stats: false, purge: false, delete: false, list: false, deadLetterById: false }

/** `orders` → queue; `order-events/invoicing` → subscription. */
export function parseTarget(text: string): DashboardTarget {
  const split = text.indexOf('/')
  return split < 0 ? { kind: 'queue', name: text } : { kind: 'subscription', topic: text.slice(0, split), name: text.slice(split + 1) }
}

export function targetLabel(target: DashboardTarget): string {
  return target.kind === 'queue' ? target.name : `${target.topic}/${target.name}`
}

/** The admin calls `mq`'s adapter serves (all false when it declares none). */
export function adminOf(mq: Anymq): AdminCapabilities {
  return { ...noAdmin, ...mq.capabilities.admin }
}

/** A message safe to show: an anymq error's own (core redacts secrets from it), never a raw one's. */
export function shownError(error: unknown): string {
  return AnymqError.isInstance(error) ? error.message : `unexpected ${error instanceof Error ? error.name : typeof error}; see the dashboard's stderr`
}

/** Reads the rows and topics: what the adapter lists under `prefix` plus the `named` targets. */
export async function readState(
  mq: Anymq,
  options: { named: readonly DashboardTarget[]; prefix: string | undefined; readOnly: boolean },
): Promise<DashboardState> {
  const admin = adminOf(mq)
  const targets = new Map<string, DashboardTarget>()
  const topics = new Set<string>()
  let listingNote: string | undefined
  if (admin.list) {
    try {
      for (const item of await mq.list(options.prefix === undefined ? {} : { prefix: options.prefix })) {
        if (item.kind === 'topic') topics.add(item.name)
        else {
          const target: DashboardTarget =
            item.kind === 'queue' ? { kind: 'queue', name: item.name } : { kind: 'subscription', topic: item.topic ?? '', name: item.name }
          targets.set(targetLabel(target), target)
        }
      }
    } catch (error) {
      listingNote = `listing failed: ${shownError(error)}`
    }
  } else {
    listingNote = `listing is not available on this broker (${mq.adapter}): only the queues and subscriptions named with --queue and --subscription are shown`
  }
  for (const target of options.named) {
    targets.set(targetLabel(target), target)
    if (target.kind === 'subscription') topics.add(target.topic)
  }
  // A dead-letter queue whose source is shown is reached through its source's row, not a row of its own.
  const labels = new Set(targets.keys())
  const shown = [...targets.values()].filter((target) => !(target.kind === 'queue' && isDeadLetterQueueOf(target.name, labels)))
  const rows = await Promise.all(shown.map((target) => readRow(mq, admin, target)))
  return { adapter: mq.adapter, url: mq.url, readOnly: options.readOnly, admin, listingNote, rows, topics: [...topics].sort(), at: Date.now() }
}

function isDeadLetterQueueOf(name: string, labels: ReadonlySet<string>): boolean {
  if (!name.endsWith('.dlq')) return false
  const source = name.slice(0, -'.dlq'.length)
  if (labels.has(source)) return true
  // `<topic>.<subscription>.dlq` is the default dead-letter queue of subscription topic/subscription.
  return [...labels].some((label) => label.includes('/') && label.replace('/', '.') === source)
}

async function readRow(mq: Anymq, admin: AdminCapabilities, target: DashboardTarget): Promise<DestinationRow> {
  const label = targetLabel(target)
  const deadLetterQueue = target.kind === 'queue' && target.name.endsWith('.dlq')
  if (!admin.stats) return { target, label, deadLetterQueue, stats: undefined, unavailable: 'not available on this broker' }
  try {
    const stats = target.kind === 'queue' ? await queueOf(mq, target.name).stats() : await mq.topic(target.topic).stats(target.name)
    return { target, label, deadLetterQueue, stats, unavailable: undefined }
  } catch (error) {
    return { target, label, deadLetterQueue, stats: undefined, unavailable: shownError(error) }
  }
}

// A dead-letter queue has no dead-letter queue of its own.
function queueOf(mq: Anymq, name: string) {
  return mq.queue(name, name.endsWith('.dlq') ? { deadLetter: false } : {})
}

/** The dead letters of a queue or subscription. */
export function deadLettersOf(mq: Anymq, target: DashboardTarget): DeadLetters<unknown> {
  return target.kind === 'queue' ? queueOf(mq, target.name).deadLetters() : mq.topic(target.topic).deadLetters(target.name)
}

/** Up to `limit` dead letters of `target`, oldest first, as the page shows them. */
export async function readDeadLetters(mq: Anymq, target: DashboardTarget, limit: number): Promise<DeadLetterView[]> {
  const letters = await deadLettersOf(mq, target).peek(limit)
  return letters.map((letter) => ({
    id: letter.id,
    key: letter.key,
    body: letter.body === undefined ? `(${letter.rawBody.byteLength} bytes the queue's codec cannot decode)` : JSON.stringify(letter.body, null, 2),
    headers: { ...letter.headers },
    error: letter.error,
    attempts: letter.attempts,
    firstFailureAt: letter.firstFailureAt?.toISOString(),
    lastFailureAt: letter.lastFailureAt?.toISOString(),
    timestamp: letter.timestamp.toISOString(),
  }))
}

/** The mutating actions the page can ask for; each names the admin call it needs. */
export const dashboardActions = {
  redrive: 'deadLetterById',
  'redrive-all': undefined,
  delete: 'deadLetterById',
  'delete-all': 'purge',
  edit: 'deadLetterById',
  purge: 'purge',
  'delete-destination': 'delete',
} as const satisfies Record<string, keyof AdminCapabilities | undefined>

export type DashboardAction = keyof typeof dashboardActions

/** Runs one action and resolves with a sentence saying what happened. */
export async function runAction(mq: Anymq, action: DashboardAction, target: DashboardTarget, options: { id?: string; body?: string }): Promise<string> {
  const label = targetLabel(target)
  const dead = target.kind === 'queue' && target.name.endsWith('.dlq') ? undefined : deadLettersOf(mq, target)
  const needId = (): string => {
    if (typeof options.id !== 'string' || options.id === '') throw new RequestError(`${action} needs the id of a dead letter`)
    return options.id
  }
  const needDead = (): DeadLetters<unknown> => {
    if (dead === undefined) throw new RequestError(`${label} is a dead-letter queue: it has no dead letters of its own`)
    return dead
  }
  switch (action) {
    case 'redrive': {
      const id = needId()
      return (await needDead().redriveOne(id)) ? `dead letter ${id} moved back to ${label}` : `no dead letter ${id} in ${label} (already moved or deleted)`
    }
    case 'redrive-all':
      return `${await needDead().redrive()} dead letters moved back to ${label}`
    case 'delete': {
      const id = needId()
      return (await needDead().deleteOne(id)) ? `dead letter ${id} deleted` : `no dead letter ${id} in ${label} (already moved or deleted)`
    }
    case 'delete-all':
      await queueOf(mq, needDead().name).purge()
      return `every dead letter of ${label} deleted`
    case 'edit': {
      const id = needId()
      let body: unknown
      try {
        body = JSON.parse(options.body ?? '')
      } catch {
        throw new RequestError('edit takes the new body as JSON text')
      }
      return (await needDead().editAndRedrive(id, { body })) ? `dead letter ${id} edited and moved back to ${label}` : `no dead letter ${id} in ${label}`
    }
    case 'purge':
      if (target.kind === 'queue') await queueOf(mq, target.name).purge()
      else await mq.topic(target.topic).purge(target.name)
      return `${label} purged`
    case 'delete-destination':
      if (target.kind === 'queue') await queueOf(mq, target.name).delete()
      else await mq.topic(target.topic).deleteSubscription(target.name)
      return `${label} deleted`
  }
}

/** A request the dashboard refuses as malformed (HTTP 400), with a message saying what was wrong. */
export class RequestError extends Error {}
