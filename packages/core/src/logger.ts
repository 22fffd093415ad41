import { redactText } from './redact.js'

/** Where anymq writes what it notices. Every line passes through secret redaction first. */
export interface Logger {
  debug(message: string, context?: Record<string, unknown>): void
  info(message: string, context?: Record<string, unknown>): void
  warn(message: string, context?: Record<string, unknown>): void
  error(message: string, context?: Record<string, unknown>): void
}

/** Warnings and errors to stderr, the rest dropped. */
export const consoleLogger: Logger = {
  debug() {},
  info() {},
  warn(message, context) {
    console.warn(message, ...(context ? [context] : []))
  },
  error(message, context) {
    console.error(message, ...(context ? [context] : []))
  },
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
}

/** Wraps a logger so that every message and string context value is redacted. */
export function redactingLogger(logger: Logger, adapter: string): Logger {
  const wrap =
    (level: keyof Logger) =>
    (message: string, context?: Record<string, unknown>): void => {
      const text = redactText(message.startsWith('[anymq]') ? message : `[anymq] [${adapter}] ${message}`)
      logger[level](text, context ? redactContext(context) : undefined)
    }
  return {
    debug: wrap('debug'),
    info: wrap('info'),
    warn: wrap('warn'),
    error: wrap('error'),
  }
}

function redactContext(context: Record<string, unknown>): Record<string, unknown> {
  const result: Record<string, unknown> = {}
  for (const [name, value] of Object.entries(context)) {
    result[name] = typeof value === 'string' ? redactText(value) : value instanceof Error ? redactText(String(value.stack ?? value.message)) : value
  }
  return result
}
