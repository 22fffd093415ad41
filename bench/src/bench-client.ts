import type { BenchBody } from '@anymq/cli'

/** A running consumer or responder of a bench client. */
export interface Running {
  close(): Promise<void>
}

/**
 * What a workload needs from one side of the comparison. The anymq side implements it once over
 * `@anymq/core`; each raw side implements it with the broker's own client and the same guarantees:
 * a send resolves only when the broker has the message (confirms, acks=all, SendMessage reply, XADD
 * reply), and a consumer settles a message only after its handler returned.
 */
export interface BenchClient {
  readonly side: 'anymq' | 'raw'
  /** What this side is, for the report: `anymq 0.1.0 + @anymq/rabbitmq`, `amqplib 2.3.1 (confirm channel)`. */
  readonly description: string
  /**
   * Provisions `queue` and puts one warm-up message (`seq` −1) on it, so no timed part pays for
   * declaring it. Consumers skip warm-up messages.
   */
  prepare(queue: string, warmUp: BenchBody): Promise<void>
  send(queue: string, body: BenchBody): Promise<void>
  /** One call for many messages, in as few round trips as the client allows. */
  sendBatch(queue: string, bodies: BenchBody[]): Promise<void>
  /** Resolves once the consumer is attached and receiving. */
  consume(queue: string, concurrency: number, handle: (body: BenchBody) => void): Promise<Running>
  /** An echo responder: replies with the request body. */
  serve(name: string): Promise<Running>
  /** One request to `name`'s responder; resolves with the reply. */
  request(name: string, body: BenchBody): Promise<BenchBody>
  close(): Promise<void>
  /**
   * In-process brokers only: drop what a run left on `queue` (published but never consumed), which no
   * broker-side deletion would free. Untimed.
   */
  discard?(queue: string): Promise<void>
}

/** A broker the harness knows, and whether (and why not) each side can run on it now. */
export interface BrokerTarget {
  name: string
  /** Environment variable holding the URL (none for memory). */
  urlVariable: string | undefined
  url: string | undefined
  /** Creates the raw side, or explains why it cannot run. */
  raw(): Promise<BenchClient>
  /** Creates the anymq side, or explains why it cannot run. */
  anymq(): Promise<BenchClient>
  /** Deletes every queue, topic, stream or group whose name contains `marker`. Best effort. */
  cleanup(marker: string): Promise<void>
  /**
   * Whether to delete each run's queue right after the run (default) or only at the end of the broker's
   * section: kafkajs producers fail every later send once a topic they wrote to is deleted (kafkajs #1622).
   */
  cleanupAfterEachRun?: boolean
  /** Run only when `--brokers` names it exactly: a variant that answers one question, not part of the default run. */
  onlyWhenNamed?: boolean
}

/** A side that cannot run, with the reason printed as "not run: <reason>". */
export class NotRunnable extends Error {}
