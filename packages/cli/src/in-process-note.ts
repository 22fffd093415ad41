import type { Anymq } from '@anymq/core'
import { type CliIo, line } from './cli-io.js'

/**
 * memory:// is a broker inside the current process: what `anymq send` puts there is gone when the
 * command exits, and `anymq consume` or `anymq dlq` in another shell get an empty broker of their
 * own. Said up front, on stderr, so nobody waits for a message that cannot come.
 */
export function noteInProcessBroker(mq: Anymq, io: CliIo, consequence: string): void {
  if (mq.adapter !== 'memory') return
  line(
    io.stderr,
    `note: ${mq.url} is an in-process broker, not shared between processes: ${consequence}. ` +
      'To reach other processes, use a broker URL (amqp://, kafka://, sqs://, redis://).',
  )
}
