import { ConfigError, type ConfigProblem } from './errors.js'

/**
 * A check for one option value: pushes one problem per thing wrong, each naming the deepest field
 * (`options.retry.backoff.delayMs`), and returns nothing. `undefined` means "not given" and passes
 * unless the check is wrapped in {@link required}. A message never shows a value that could be a
 * secret: objects are described by their kind, and so is any value under a field whose name sounds
 * like a credential (password, token, secret, key, credentials, sasl, tls…).
 */
export interface OptionCheck {
  (value: unknown, field: string, problems: ConfigProblem[]): void
  /** Set by {@link required}: {@link objectOf} and {@link variant} report the field when it is missing. */
  readonly required?: boolean
  /** What the check wants, for messages of {@link either}: `an integer from 0 to ∞`. */
  readonly expected?: string
  /** Whether the value is of the kind the check is about; {@link either} reports the problems of that alternative. */
  readonly accepts?: (value: unknown) => boolean
  /** True for object checks, whose own problems name a deeper field than a summary of the union would. */
  readonly structured?: boolean
}

/** An options object's checks, one per allowed key. */
export type OptionShape = Readonly<Record<string, OptionCheck>>

function describedCheck(
  check: (value: unknown, field: string, problems: ConfigProblem[]) => void,
  meta: { required?: boolean; expected?: string; accepts?: (value: unknown) => boolean; structured?: boolean },
): OptionCheck {
  return Object.assign(check, meta)
}

/** The object check of each shape, built once: sends validate their options on every call. */
const objectChecks = new WeakMap<OptionShape, OptionCheck>()

/**
 * Checks an options object: unknown keys, missing required keys and malformed values. Throws one
 * {@link ConfigError} listing every problem at once; returns nothing when the options are fine.
 */
export function validateOptions(value: unknown, shape: OptionShape, where: string, adapter = 'core'): void {
  const problems: ConfigProblem[] = []
  let check = objectChecks.get(shape)
  if (!check) {
    check = objectOf(shape)
    objectChecks.set(shape, check)
  }
  check(value, where, problems)
  if (problems.length > 0) throw new ConfigError(problems, { adapter })
}

const secretSegment = /password|passphrase|secret|token|credential|signature|privatekey|accesskey|apikey|^auth|^sasl$|^tls$|^ssl$|^cert|^key$|^pfx$/i

/** Whether a value under this field may be shown in a message: not under any credential-like name. */
function mayShow(field: string): boolean {
  // The part before the last `options` is the call it belongs to (`queue('tokens') options`), not a field.
  const path = field.replace(/^.*\boptions(?=\.|$)/, '')
  return !path.split(/[.?\s[\]]+/).some((segment) => secretSegment.test(segment))
}

/**
 * Describes a value for a message: numbers, booleans and short strings as they are, anything else by
 * its kind; and only the kind for any value under a credential-like field name.
 */
export function describeValue(value: unknown, field: string): string {
  const kind = kindOf(value)
  if (!mayShow(field)) return kind
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value)
  if (typeof value === 'string' && value.length <= 40 && !/[\r\n]/.test(value)) return `'${value}'`
  return kind
}

function kindOf(value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'nothing'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function literal(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : String(value)
}

function listOr(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? 'nothing') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`
}

/** Marks a check of {@link objectOf} or {@link variant} as required: a missing key is a problem. */
export function required(check: OptionCheck): OptionCheck {
  return describedCheck((value, field, problems) => check(value, field, problems), { ...metaOf(check), required: true })
}

function metaOf(check: OptionCheck) {
  return { expected: check.expected, accepts: check.accepts, structured: check.structured }
}

function checkMembers(
  value: Record<string, unknown>,
  shape: OptionShape,
  field: string,
  problems: ConfigProblem[],
  unknown: (key: string) => string,
  missing: string,
): void {
  for (const [key, item] of Object.entries(value)) {
    // Own keys only: `toString` or `constructor` are unknown options, not inherited checks.
    const check = Object.hasOwn(shape, key) ? shape[key] : undefined
    if (check) check(item, `${field}.${key}`, problems)
    else problems.push({ field: `${field}.${key}`, message: unknown(key) })
  }
  for (const [key, check] of Object.entries(shape)) {
    if (check.required && value[key] === undefined) problems.push({ field: `${field}.${key}`, message: missing })
  }
}

function allowedList(shape: OptionShape): string {
  return Object.keys(shape).join(', ') || '(none)'
}

/** A plain object whose keys are those of `shape` (any other key is a problem naming the allowed ones). */
export function objectOf(shape: OptionShape, description = 'an object'): OptionCheck {
  return describedCheck(
    (value, field, problems) => {
      if (value === undefined) return
      if (!isPlainObject(value)) {
        problems.push({ field, message: `expected ${description}, got ${describeValue(value, field)}` })
        return
      }
      checkMembers(value, shape, field, problems, () => `unknown option; allowed: ${allowedList(shape)}`, 'required')
    },
    { expected: description, accepts: isPlainObject, structured: true },
  )
}

/**
 * A discriminated union of objects: the value of `discriminant` (required) picks the shape, and every
 * problem names the chosen alternative: `delayMs: required for type 'fixed'`,
 * `initialMs: unknown for type 'fixed' (allowed: type, delayMs, jitter)`. The discriminant need not
 * be listed in the shapes.
 */
export function variant(discriminant: string, alternatives: Readonly<Record<string, OptionShape>>, description = 'an object'): OptionCheck {
  const names = Object.keys(alternatives)
  const choices = listOr(names.map(literal))
  return describedCheck(
    (value, field, problems) => {
      if (value === undefined) return
      if (!isPlainObject(value)) {
        problems.push({ field, message: `expected ${description} with ${discriminant} ${choices}, got ${describeValue(value, field)}` })
        return
      }
      const chosen = value[discriminant]
      const shape = typeof chosen === 'string' && Object.hasOwn(alternatives, chosen) ? alternatives[chosen] : undefined
      if (!shape) {
        const message = chosen === undefined ? `required (${choices})` : `expected ${choices}, got ${describeValue(chosen, `${field}.${discriminant}`)}`
        problems.push({ field: `${field}.${discriminant}`, message })
        return
      }
      const full: OptionShape = { [discriminant]: anything, ...shape }
      const which = `${discriminant} ${literal(chosen)}`
      checkMembers(value, full, field, problems, () => `unknown for ${which} (allowed: ${allowedList(full)})`, `required for ${which}`)
    },
    { expected: `${description} with ${discriminant} ${choices}`, accepts: isPlainObject, structured: true },
  )
}

/**
 * An object (or function) with these members, read as properties so that class instances and
 * prototype methods pass; other members are allowed. For interfaces such as a codec.
 */
export function withMembers(members: OptionShape, description: string): OptionCheck {
  const accepts = (value: unknown) => (typeof value === 'object' && value !== null && !Array.isArray(value)) || typeof value === 'function'
  return describedCheck(
    (value, field, problems) => {
      if (value === undefined) return
      if (!accepts(value)) {
        problems.push({ field, message: `expected ${description}, got ${describeValue(value, field)}` })
        return
      }
      const object = value as Record<string, unknown>
      for (const [key, check] of Object.entries(members)) {
        if (check.required && object[key] === undefined) problems.push({ field: `${field}.${key}`, message: `required in ${description}` })
        else check(object[key], `${field}.${key}`, problems)
      }
    },
    { expected: description, accepts, structured: true },
  )
}

/** A whole number from `min` to `max` (inclusive). */
export function integer(min: number, max = Number.MAX_SAFE_INTEGER): OptionCheck {
  const expected = `an integer from ${min} to ${max === Number.MAX_SAFE_INTEGER ? '∞' : max}`
  return describedCheck(
    (value, field, problems) => {
      if (value === undefined) return
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
        problems.push({ field, message: `expected ${expected}, got ${describeValue(value, field)}` })
    },
    { expected, accepts: (value) => typeof value === 'number' },
  )
}

/** Exactly one of these values (compared with `===`). */
export function oneOf(...allowed: readonly unknown[]): OptionCheck {
  const expected = allowed.length === 1 ? literal(allowed[0]) : `one of ${allowed.map(literal).join(', ')}`
  return describedCheck(
    (value, field, problems) => {
      if (value === undefined) return
      if (!allowed.includes(value)) problems.push({ field, message: `expected ${expected}, got ${describeValue(value, field)}` })
    },
    { expected: allowed.map(literal).join(', '), accepts: (value) => allowed.some((item) => typeof item === typeof value) },
  )
}

/** A value of this `typeof` (not `null`); `description` is what messages say is expected. */
export function ofType(type: 'string' | 'boolean' | 'function' | 'object', description = `a ${type}`): OptionCheck {
  const accepts = (value: unknown) => typeof value === type && value !== null
  return describedCheck(
    (value, field, problems) => {
      if (value === undefined) return
      if (!accepts(value)) problems.push({ field, message: `expected ${description}, got ${kindOf(value)}` })
    },
    { expected: description, accepts },
  )
}

/**
 * A union of checks: passes when one passes. Otherwise, when the value is of the kind of exactly one
 * structured alternative (an object for `false | { … }`), that alternative's own problems are
 * reported, naming the deepest field; else one problem lists what every alternative expects.
 */
export function either(...checks: OptionCheck[]): OptionCheck {
  const expected = listOr(checks.map((check) => check.expected ?? 'another value'))
  return describedCheck(
    (value, field, problems) => {
      if (value === undefined) return
      const attempts = checks.map((check) => {
        const found: ConfigProblem[] = []
        check(value, field, found)
        return { check, found }
      })
      if (attempts.some((attempt) => attempt.found.length === 0)) return
      const fitting = attempts.filter((attempt) => attempt.check.accepts?.(value))
      const only = fitting.length === 1 ? fitting[0] : undefined
      if (only?.check.structured) problems.push(...only.found)
      else problems.push({ field, message: `expected ${expected}, got ${describeValue(value, field)}` })
    },
    {
      expected,
      accepts: (value) => checks.some((check) => check.accepts?.(value)),
      structured: checks.some((check) => check.structured),
    },
  )
}

/** An object whose values are all strings (headers). */
export function stringRecord(): OptionCheck {
  return describedCheck(
    (value, field, problems) => {
      if (value === undefined) return
      if (!isPlainObject(value)) {
        problems.push({ field, message: `expected an object of string values, got ${kindOf(value)}` })
        return
      }
      for (const [key, item] of Object.entries(value)) {
        if (typeof item !== 'string') problems.push({ field: `${field}.${key}`, message: `header values are strings, got ${kindOf(item)}` })
      }
    },
    { expected: 'an object of string values', accepts: isPlainObject },
  )
}

/** Any value at all. */
export const anything: OptionCheck = describedCheck(() => {}, { expected: 'anything', accepts: () => true })

/** An `AbortSignal`. */
export function abortSignal(): OptionCheck {
  const accepts = (value: unknown) => value instanceof AbortSignal
  return describedCheck(
    (value, field, problems) => {
      if (value === undefined) return
      if (!accepts(value)) problems.push({ field, message: `expected an AbortSignal, got ${kindOf(value)}` })
    },
    { expected: 'an AbortSignal', accepts },
  )
}

/** A Standard Schema: an object or function (arktype) with a `~standard` member. */
export function standardSchema(): OptionCheck {
  const description = 'a Standard Schema (zod, valibot, arktype…)'
  const accepts = (value: unknown) => (typeof value === 'object' && value !== null) || typeof value === 'function'
  return describedCheck(
    (value, field, problems) => {
      if (value === undefined) return
      if (!accepts(value) || typeof (value as Record<string, unknown>)['~standard'] !== 'object')
        problems.push({ field, message: `expected ${description}, got ${kindOf(value)}${accepts(value) ? " without '~standard'" : ''}` })
    },
    { expected: description, accepts },
  )
}

const namePattern = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/

/** A queue, topic, subscription or consumer name: 1 to 200 letters, digits, '.', '_' or '-', starting with a letter or digit. */
export const nameCheck: OptionCheck = describedCheck(
  (value, field, problems) => {
    if (typeof value !== 'string' || !namePattern.test(value))
      problems.push({
        field,
        message: `${describeValue(value, field)} is not a valid name: use 1 to 200 letters, digits, '.', '_' or '-', starting with a letter or digit`,
      })
  },
  { expected: 'a name', accepts: (value) => typeof value === 'string' },
)

/** A `deadLetter` option: `false` (none), or the dead-letter queue's name, held to the rules of any queue name. */
export const deadLetterCheck: OptionCheck = describedCheck(
  (value, field, problems) => {
    if (value === undefined || value === false) return
    if (typeof value === 'string') nameCheck(value, field, problems)
    else problems.push({ field, message: `expected false or a queue name, got ${describeValue(value, field)}` })
  },
  { expected: 'false or a queue name', accepts: (value) => value === false || typeof value === 'string' },
)
