import { type Anymq, connect, knownSchemes, type Logger } from '@anymq/core'
import type { CliIo } from './cli-io.js'

/**
 * Connects to `url`. The adapter package for the scheme is imported from here first (so adapters
 * installed beside the CLI are found), then core resolves it and says which package to install when
 * it is missing. Log lines go to stderr, redacted by core.
 */
export async function connectUrl(url: string, io: CliIo): Promise<Anymq> {
  await importAdapterFor(url)
  return connect(url, { logger: stderrLogger(io) })
}

/** Imports the adapter package of `url`'s scheme from beside the CLI, where installed; core says what to install otherwise. */
export async function importAdapterFor(url: string): Promise<void> {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase()
  const packageName = scheme === undefined ? undefined : knownSchemes[scheme]
  if (packageName !== undefined) {
    try {
      await import(packageName)
    } catch (error) {
      const code = (error as { code?: string }).code
      if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error
    }
  }
}

function stderrLogger(io: CliIo): Logger {
  const write = (level: string) => (message: string) => io.stderr.write(`${level}: ${message}\n`)
  return { debug() {}, info() {}, warn: write('warning'), error: write('error') }
}
