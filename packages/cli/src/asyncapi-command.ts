import { basename, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { type Anymq, AnymqError } from '@anymq/core'
import { type CliIo, line, UsageError } from './cli-io.js'
import { CommandFailure } from './command-failure.js'
import { connectUrl } from './connect-url.js'

export const asyncapiUsage = `anymq asyncapi <module> [--url memory://] [--title t] [--version v] [--export declare]
  Prints the AsyncAPI 3.0 document (JSON) of what <module> declares: it imports the module, calls its
  exported function (--export, default 'declare', else the default export) with a connection to --url,
  and describes the queues, topics, subscriptions and request/reply endpoints it made. The default
  memory:// touches no broker; a broker URL adds its protocol and bindings (consumers the module starts
  are closed at once, whatever they fetched is given back).`

type Declare = (mq: Anymq) => unknown

/** The module's function that declares the application's handles on a connection. */
async function declarationsOf(modulePath: string, exportName: string): Promise<Declare> {
  const loaded = await importModule(modulePath)
  const declare = loaded[exportName] ?? (exportName === 'declare' ? loaded.default : undefined)
  if (typeof declare !== 'function')
    throw new UsageError(
      `${modulePath} exports no function '${exportName}'${exportName === 'declare' ? ' and no default function' : ''}; export one that takes the connection and makes the queues, topics and endpoints`,
    )
  return declare as Declare
}

/** The user's module: a path that names no file is a usage mistake; a module that fails to load says why, without Node's stack. */
async function importModule(modulePath: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(resolve(modulePath)).href
  try {
    return (await import(url)) as Record<string, unknown>
  } catch (error) {
    const { code } = error as { code?: string }
    // A missing module that is the path itself is the user's typo; one the module imports is its own failure.
    if (code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes(resolve(modulePath)))
      throw new UsageError(`no module at ${modulePath} (resolved to ${resolve(modulePath)})`)
    throw new CommandFailure(`${modulePath} could not be imported: ${describe(error)}`, { cause: error })
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}

export async function asyncapiCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { url: { type: 'string' }, title: { type: 'string' }, version: { type: 'string' }, export: { type: 'string' } },
  })
  const [modulePath] = positionals
  if (modulePath === undefined || positionals.length > 1) throw new UsageError('anymq asyncapi takes one module path')
  const declare = await declarationsOf(modulePath, values.export ?? 'declare')
  const mq = await connectUrl(values.url ?? 'memory://', io)
  try {
    try {
      await declare(mq)
    } catch (error) {
      // Core's own errors (a bad queue option) already say what is wrong; anything else is the module's.
      if (AnymqError.isInstance(error)) throw error
      throw new CommandFailure(`the declaring function of ${modulePath} threw ${describe(error)}`, { cause: error })
    }
    const document = mq.asyncapi({ title: values.title ?? basename(modulePath).replace(/\.[cm]?[jt]s$/, ''), version: values.version ?? '1.0.0' })
    line(io.stdout, JSON.stringify(document, null, 2))
    return 0
  } finally {
    await mq.close()
  }
}
