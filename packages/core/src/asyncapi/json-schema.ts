import type { StandardSchemaV1 } from '../schema.js'

/** A JSON Schema object, as AsyncAPI's schema format (a superset of draft-07) takes it. */
export type JsonSchema = Record<string, unknown>

interface StandardJsonSchemaConverter {
  output?: (options: { target: string }) => unknown
}

/**
 * The JSON Schema of a Standard Schema's output, where the schema library offers one: through
 * Standard JSON Schema (`~standard.jsonSchema.output`, zod ≥ 4.2, and others), else a
 * `toJSONSchema()` method. `undefined` when the library offers neither or it cannot convert this
 * schema (a transform, a custom check).
 */
export function toJsonSchema(schema: StandardSchemaV1 | undefined): JsonSchema | undefined {
  if (schema === undefined) return undefined
  let converted: unknown
  try {
    const converter = (schema['~standard'] as { jsonSchema?: StandardJsonSchemaConverter }).jsonSchema
    if (typeof converter?.output === 'function') converted = converter.output({ target: 'draft-07' })
    else {
      const withMethod = schema as unknown as { toJSONSchema?: () => unknown }
      if (typeof withMethod.toJSONSchema === 'function') converted = withMethod.toJSONSchema()
    }
  } catch {
    return undefined
  }
  if (typeof converted !== 'object' || converted === null) return undefined
  // `$schema` names the dialect; AsyncAPI's schemaFormat says it instead.
  const { $schema: _dialect, ...rest } = converted as JsonSchema
  return rest
}
