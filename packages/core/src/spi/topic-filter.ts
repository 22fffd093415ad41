import type { TopicFilter } from './transport.js'

/**
 * AMQP topic-pattern match: words separated by dots, `*` matches exactly one word, `#` zero or more.
 * Shared so adapters that emulate subject filters agree with RabbitMQ's own routing.
 */
export function subjectMatches(pattern: string, subject: string): boolean {
  return matchWords(pattern.split('.'), 0, subject.split('.'), 0)
}

function matchWords(pattern: string[], p: number, words: string[], w: number): boolean {
  if (p === pattern.length) return w === words.length
  const part = pattern[p]
  if (part === '#') {
    for (let skip = w; skip <= words.length; skip++) {
      if (matchWords(pattern, p + 1, words, skip)) return true
    }
    return false
  }
  if (w === words.length) return false
  return (part === '*' || part === words[w]) && matchWords(pattern, p + 1, words, w + 1)
}

/** Whether a message with this subject and these headers passes the filter. */
export function filterMatches(filter: TopicFilter | undefined, subject: string | undefined, headers: Readonly<Record<string, string>>): boolean {
  if (!filter) return true
  if (filter.subject !== undefined && (subject === undefined || !subjectMatches(filter.subject, subject))) return false
  if (filter.headers) {
    for (const [name, value] of Object.entries(filter.headers)) {
      if (headers[name] !== value) return false
    }
  }
  return true
}
