import type { StandardSchemaV1 } from '@standard-schema/spec'
import { ConfigError, ValidationError } from './errors.js'

export type { StandardSchemaV1 }

/**
 * Validates a body against any Standard Schema (zod, valibot, arktype…). Returns the schema's
 * output (which may be transformed) or throws {@link ValidationError} listing the issues.
 */
export async function validateBody<T>(schema: StandardSchemaV1<unknown, T>, value: unknown, where: string, adapter: string): Promise<T> {
  let result = schema['~standard'].validate(value)
  if (result instanceof Promise) result = await result
  return validationOutcome(result, where, adapter)
}

/**
 * {@link validateBody} for callers that cannot wait (a synchronous database transaction). Throws
 * `ConfigError` when the schema validates asynchronously.
 */
export function validateBodySync<T>(schema: StandardSchemaV1<unknown, T>, value: unknown, where: string, adapter: string): T {
  const result = schema['~standard'].validate(value)
  if (result instanceof Promise) {
    result.catch(() => {})
    throw new ConfigError([{ field: 'schema', message: `the schema of ${where} validates asynchronously; use the asynchronous call instead` }], { adapter })
  }
  return validationOutcome(result, where, adapter)
}

function validationOutcome<T>(result: StandardSchemaV1.Result<T>, where: string, adapter: string): T {
  if (result.issues) {
    throw new ValidationError(
      where,
      result.issues.map((issue) => ({
        message: issue.message,
        path: issue.path?.map((segment) => (typeof segment === 'object' ? segment.key : segment)),
      })),
      { adapter },
    )
  }
  return result.value
}

export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)['~standard'] === 'object'
}
