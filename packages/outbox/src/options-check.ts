import { ConfigError, type ConfigProblem } from '@anymq/core'

export type Check = (value: unknown, field: string, problems: ConfigProblem[]) => void

/** Checks an options object: unknown keys and malformed values, every problem reported at once. */
export function checkOptions(value: unknown, shape: Record<string, Check>, where: string, adapter = 'outbox'): void {
  if (value === undefined) return
  const problems: ConfigProblem[] = []
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    problems.push({ field: where, message: `expected an object, got ${JSON.stringify(value)}` })
  else {
    for (const [key, item] of Object.entries(value)) {
      const check = shape[key]
      if (!check) problems.push({ field: `${where}.${key}`, message: `unknown option; allowed: ${Object.keys(shape).join(', ')}` })
      else if (item !== undefined) check(item, `${where}.${key}`, problems)
    }
  }
  if (problems.length > 0) throw new ConfigError(problems, { adapter })
}

export const isString: Check = (value, field, problems) => {
  if (typeof value !== 'string') problems.push({ field, message: `expected a string, got ${typeof value}` })
}

export const isBoolean: Check = (value, field, problems) => {
  if (typeof value !== 'boolean') problems.push({ field, message: `expected a boolean, got ${typeof value}` })
}

export const isObject: Check = (value, field, problems) => {
  if (typeof value !== 'object' || value === null) problems.push({ field, message: `expected an object, got ${JSON.stringify(value)}` })
}

export const isFunction: Check = (value, field, problems) => {
  if (typeof value !== 'function') problems.push({ field, message: `expected a function, got ${typeof value}` })
}

export function isInteger(min: number, max = Number.MAX_SAFE_INTEGER): Check {
  return (value, field, problems) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
      problems.push({ field, message: `expected an integer from ${min} to ${max === Number.MAX_SAFE_INTEGER ? '∞' : max}, got ${JSON.stringify(value)}` })
  }
}

export const isStringRecord: Check = (value, field, problems) => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push({ field, message: 'expected an object of string values' })
    return
  }
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') problems.push({ field: `${field}.${key}`, message: `header values are strings, got ${typeof item}` })
  }
}

export const isName: Check = (value, field, problems) => {
  if (typeof value !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/.test(value))
    problems.push({
      field,
      message: `${JSON.stringify(value)} is not a valid name: use 1 to 200 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    })
}

export function either(...checks: Check[]): Check {
  return (value, field, problems) => {
    const attempts = checks.map((check) => {
      const found: ConfigProblem[] = []
      check(value, field, found)
      return found
    })
    if (attempts.every((found) => found.length > 0)) problems.push(...(attempts[0] ?? []))
  }
}

export function equals(...allowed: unknown[]): Check {
  return (value, field, problems) => {
    if (!allowed.includes(value))
      problems.push({ field, message: `expected one of ${allowed.map((item) => JSON.stringify(item)).join(', ')}, got ${JSON.stringify(value)}` })
  }
}
