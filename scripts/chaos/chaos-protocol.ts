/** What the chaos runner and its consumer processes exchange. */

/** The body of every message the suite sends: who sent it, in which order, with which key. */
export interface ChaosBody {
  id: string
  publisher: number
  sequence: number
  key: string | undefined
}

export interface ChaosWorkerSettings {
  url: string
  broker: Record<string, unknown>
  queue: string
  topic: string
  subscription: string
  concurrency: number
}

/** One delivery, reported before the handler returns (so before the ack). */
export interface DeliveryReport {
  type: 'delivery'
  kind: 'queue' | 'topic'
  id: string
  key: string | undefined
  sequence: number
  publisher: number
  /** The delivery's attempt: above 1 it came back through the retry path, at 1 it was read again. */
  attempt: number
  /** The consumer process that got it. */
  pid: number
  at: number
}
