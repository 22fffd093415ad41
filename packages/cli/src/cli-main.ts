import { readFileSync } from 'node:fs'
import { AnymqError } from '@anymq/core'
import { redactText } from '@anymq/core/spi'
import { asyncapiCommand, asyncapiUsage } from './asyncapi-command.js'
import { benchCommand, benchUsage } from './bench-command.js'
import { bridgeCommand, bridgeUsage } from './bridge-command.js'
import { type CliIo, line, UsageError } from './cli-io.js'
import { CommandFailure } from './command-failure.js'
import { conformanceCommand, conformanceUsage } from './conformance-command.js'
import { dashboardCommand, dashboardUsage } from './dashboard-command.js'
import { consumeCommand, consumeUsage, deadLetterCommand, deadLetterUsage, doctorCommand, doctorUsage, sendCommand, sendUsage } from './message-commands.js'
import { statsCommand, statsUsage } from './stats-command.js'

export const usage = `usage: anymq <command> …   (anymq --version prints the version)

${benchUsage}

${sendUsage}

${consumeUsage}

${deadLetterUsage}

${doctorUsage}

${bridgeUsage}

${statsUsage}

${dashboardUsage}

${conformanceUsage}

${asyncapiUsage}

URLs: memory://, amqp://user:pass@host:5672, kafka://host:9092, sqs://us-east-1?endpoint=…, redis://host:6379, nats://host:4222
(the adapter package for the scheme must be installed: @anymq/rabbitmq, @anymq/kafka, @anymq/aws, @anymq/redis, @anymq/nats).`

const commands: Record<string, (args: string[], io: CliIo) => Promise<number>> = {
  bench: benchCommand,
  send: sendCommand,
  consume: consumeCommand,
  dlq: deadLetterCommand,
  doctor: doctorCommand,
  bridge: bridgeCommand,
  stats: statsCommand,
  dashboard: dashboardCommand,
  conformance: conformanceCommand,
  asyncapi: asyncapiCommand,
}

/** Runs `anymq <argv…>` and resolves with the exit code: 0 done, 1 failed, 2 bad usage. */
export async function main(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [name, ...args] = argv
  if (name === '--version' || name === '-v' || name === 'version') {
    line(io.stdout, cliVersion())
    return 0
  }
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    line(name === undefined ? io.stderr : io.stdout, usage)
    return name === undefined ? 2 : 0
  }
  const command = commands[name]
  if (!command) {
    line(io.stderr, `anymq: unknown command ${JSON.stringify(name)}\n\n${usage}`)
    return 2
  }
  try {
    return await command(args, io)
  } catch (error) {
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      line(io.stderr, `anymq ${name}: ${(error as Error).message}\n\n${usage}`)
      return 2
    }
    if (error instanceof CommandFailure) {
      line(io.stderr, `anymq ${name}: ${redactText(error.message)}`)
      return 1
    }
    line(io.stderr, `anymq ${name}: ${AnymqError.isInstance(error) ? error.message : String((error as Error)?.stack ?? error)}`)
    return 1
  }
}

/** The version of @anymq/cli; its package.json is one folder up from both src/ and dist/. */
export function cliVersion(): string {
  return (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version
}
