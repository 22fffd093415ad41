import { randomUUID } from 'node:crypto'
import { ValidationError, type ValidationIssue } from '../errors.js'

/**
 * A CloudEvents 1.0 event (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/spec.md):
 * the required context attributes, the optional ones, extension attributes as further members, and
 * `data`. Attributes read from headers (binary mode) are strings, as the protocol bindings carry them.
 */
export interface CloudEvent<T = unknown> {
  /** Always `1.0`; filled in on send when absent. */
  specversion?: '1.0'
  /** Unique per `source`; a random UUID on send when absent. */
  id?: string
  /** URI-reference of the context the event happened in, e.g. `/orders/eu`. */
  source: string
  /** Kind of event, e.g. `com.example.order.created`. */
  type: string
  /** RFC 3339 timestamp of the occurrence. */
  time?: string
  subject?: string
  /** Media type of `data`; `application/json` when absent. */
  datacontenttype?: string
  /** Absolute URI of the schema `data` adheres to. */
  dataschema?: string
  /** The payload: a JSON value, a string for `text/*`, a `Uint8Array` for anything else. */
  data?: T
  /** Extension attributes: lower-case letters and digits, values string, boolean or integer. */
  [extension: string]: unknown
}

/** A received event: every required attribute is there. */
export type ReceivedCloudEvent<T = unknown> = CloudEvent<T> & { specversion: '1.0'; id: string }

/** Context attributes defined by the spec (everything else but `data` is an extension). */
export const contextAttributes = ['specversion', 'id', 'source', 'type', 'time', 'subject', 'datacontenttype', 'dataschema'] as const

const extensionName = /^[a-z0-9]+$/
// RFC 3339 date-time: date, 'T', time with optional fraction, and 'Z' or an offset.
const rfc3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/
const absoluteUri = /^[A-Za-z][A-Za-z0-9+.-]*:/

/** An event ready to send: `specversion` and `id` filled in, then {@link validateCloudEvent}. */
export function completeCloudEvent<T>(event: CloudEvent<T>, where: string): ReceivedCloudEvent<T> {
  if (typeof event !== 'object' || event === null || Array.isArray(event))
    throw new ValidationError(where, [{ message: 'a CloudEvent is an object with source, type and optionally id, data, time, subject…' }])
  const complete = { ...event, specversion: event.specversion ?? '1.0', id: event.id ?? randomUUID() } as ReceivedCloudEvent<T>
  validateCloudEvent(complete, where)
  return complete
}

/**
 * Checks an event against CloudEvents 1.0: required attributes present and non-empty, `specversion`
 * `1.0`, `time` RFC 3339, `dataschema` an absolute URI, extension names lower-case letters and
 * digits with string, boolean or integer values. Throws {@link ValidationError} naming every problem.
 */
export function validateCloudEvent(event: Record<string, unknown>, where: string): void {
  const issues: ValidationIssue[] = []
  const problem = (attribute: string, message: string) => issues.push({ path: [attribute], message })
  if (event.specversion !== '1.0') problem('specversion', `must be '1.0' (the only version anymq reads and writes), got ${show(event.specversion)}`)
  for (const attribute of ['id', 'source', 'type'] as const) {
    const value = event[attribute]
    if (typeof value !== 'string' || value === '') problem(attribute, `is required and must be a non-empty string, got ${show(value)}`)
  }
  for (const attribute of ['subject', 'datacontenttype', 'dataschema'] as const) {
    const value = event[attribute]
    if (value !== undefined && (typeof value !== 'string' || value === '')) problem(attribute, `must be a non-empty string when present, got ${show(value)}`)
  }
  if (typeof event.dataschema === 'string' && !absoluteUri.test(event.dataschema))
    problem('dataschema', `must be an absolute URI, got ${show(event.dataschema)}`)
  if (event.time !== undefined && (typeof event.time !== 'string' || !rfc3339.test(event.time) || Number.isNaN(Date.parse(event.time))))
    problem('time', `must be an RFC 3339 timestamp such as 2026-01-31T12:00:00Z, got ${show(event.time)}`)
  if ('data_base64' in event) problem('data_base64', 'is a member of the JSON format only; put bytes in data as a Uint8Array')
  for (const name of Object.keys(event)) {
    if (name === 'data' || name === 'data_base64' || (contextAttributes as readonly string[]).includes(name)) continue
    if (!extensionName.test(name)) {
      problem(name, 'is not a valid extension attribute name: lower-case letters a-z and digits 0-9 only')
      continue
    }
    const value = event[name]
    if (value === undefined) continue
    if (typeof value !== 'string' && typeof value !== 'boolean' && !(Number.isInteger(value) && Math.abs(value as number) <= 2 ** 31))
      problem(name, `an extension value must be a string, a boolean or a 32-bit integer, got ${show(value)}`)
  }
  if (issues.length > 0) throw new ValidationError(`${where} (CloudEvents 1.0)`, issues)
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)
  return typeof value === 'object' ? (Array.isArray(value) ? 'an array' : 'an object') : `${typeof value} ${String(value)}`
}
