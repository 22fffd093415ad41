import { createRequire } from 'node:module'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { ConfigError } from './errors.js'
import type { AdapterFactory } from './spi/transport.js'

/** URL schemes anymq knows, and the package that serves each. */
export const knownSchemes: Readonly<Record<string, string>> = {
  memory: '@anymq/memory',
  amqp: '@anymq/rabbitmq',
  amqps: '@anymq/rabbitmq',
  kafka: '@anymq/kafka',
  sqs: '@anymq/aws',
  redis: '@anymq/redis',
  rediss: '@anymq/redis',
  'redis+sentinel': '@anymq/redis',
  'rediss+sentinel': '@anymq/redis',
  nats: '@anymq/nats',
  'gcp-pubsub': '@anymq/gcp-pubsub',
  kinesis: '@anymq/kinesis',
}

const registered = new Map<string, AdapterFactory>()

/** Makes an adapter available to `connect()` for its schemes. Adapter packages call it on import. */
export function registerAdapter(factory: AdapterFactory): void {
  for (const scheme of factory.schemes) registered.set(scheme, factory)
}

/**
 * Finds the adapter for a URL scheme: one registered already, else the known package imported on
 * demand (from core's location, then from the application's). Says which package to install when
 * it is missing.
 */
export async function resolveAdapter(scheme: string): Promise<AdapterFactory> {
  const found = registered.get(scheme)
  if (found) return found
  const packageName = knownSchemes[scheme]
  if (!packageName) {
    throw new ConfigError([
      {
        field: 'url',
        message: `unknown scheme '${scheme}:'; known schemes: ${Object.keys(knownSchemes)
          .map((name) => `${name}://`)
          .join(', ')} (or pass { adapter } to connect())`,
      },
    ])
  }
  const loaded = (await importAdapter(packageName)) as { adapter?: AdapterFactory } | undefined
  if (loaded?.adapter) registerAdapter(loaded.adapter)
  const factory = registered.get(scheme)
  if (!factory) {
    throw new ConfigError(
      [
        {
          field: 'url',
          message: `the scheme '${scheme}:' needs the package ${packageName}, which is not installed: run \`npm install ${packageName}\` (or pnpm add / yarn add), or import it before connect()`,
        },
      ],
      { code: 'ERR_ADAPTER_NOT_INSTALLED' },
    )
  }
  return factory
}

async function importAdapter(packageName: string): Promise<unknown> {
  try {
    return await import(packageName)
  } catch (error) {
    if (!isNotFound(error)) throw error
  }
  try {
    const fromApplication = createRequire(join(process.cwd(), 'noop.js')).resolve(packageName)
    return await import(pathToFileURL(fromApplication).href)
  } catch (error) {
    if (!isNotFound(error)) throw error
    return undefined
  }
}

function isNotFound(error: unknown): boolean {
  const code = (error as { code?: string } | undefined)?.code
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND' || code === 'ERR_PACKAGE_PATH_NOT_EXPORTED'
}
