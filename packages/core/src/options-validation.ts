import { ConfigError, type ConfigProblem } from './errors.js'

/** A check for one option value; pushes problems naming `field` and returns nothing. */
export type OptionCheck = (value: unknown, field: string, problems: ConfigProblem[]) => void

/** Checks an options object: unknown keys and malformed values, every problem reported at once. */
export function validateOptions(value: unknown, shape: Record<string, OptionCheck>, where: string, adapter = 'core'): void {
  const problems: ConfigProblem[] = []
  objectOf(shape)(value, where, problems)
  if (problems.length > 0) throw new ConfigError(problems, { adapter })
}

export function objectOf(shape: Record<string, OptionCheck>): OptionCheck {
  return (value, field, problems) => {
    if (value === undefined) return
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push({
        field,
        message: `expected an object, got ${JSON.stringify(value)}`,
      })
      return
    }
    for (const [key, item] of Object.entries(value)) {
      const check = shape[key]
      if (!check) {
        problems.push({
          field: `${field}.${key}`,
          message: `unknown option; allowed: ${Object.keys(shape).join(', ')}`,
        })
        continue
      }
      check(item, `${field}.${key}`, problems)
    }
  }
}

export function integer(min: number, max = Number.MAX_SAFE_INTEGER): OptionCheck {
  return (value, field, problems) => {
    if (value === undefined) return
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      problems.push({
        field,
        message: `expected an integer from ${min} to ${max === Number.MAX_SAFE_INTEGER ? '∞' : max}, got ${JSON.stringify(value)}`,
      })
    }
  }
}

export function oneOf(...allowed: readonly unknown[]): OptionCheck {
  return (value, field, problems) => {
    if (value === undefined) return
    if (!allowed.includes(value))
      problems.push({
        field,
        message: `expected one of ${allowed.map((item) => JSON.stringify(item)).join(', ')}, got ${JSON.stringify(value)}`,
      })
  }
}

export function ofType(type: 'string' | 'boolean' | 'function' | 'object', description = `a ${type}`): OptionCheck {
  return (value, field, problems) => {
    if (value === undefined) return
    if (typeof value !== type || value === null)
      problems.push({
        field,
        message: `expected ${description}, got ${typeof value}`,
      })
  }
}

export function either(...checks: OptionCheck[]): OptionCheck {
  return (value, field, problems) => {
    const attempts = checks.map((check) => {
      const found: ConfigProblem[] = []
      check(value, field, found)
      return found
    })
    if (attempts.every((found) => found.length > 0)) problems.push(...(attempts.find((found) => found.length > 0) ?? []))
  }
}

export function stringRecord(): OptionCheck {
  return (value, field, problems) => {
    if (value === undefined) return
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push({ field, message: 'expected an object of string values' })
      return
    }
    for (const [key, item] of Object.entries(value)) {
      if (typeof item !== 'string')
        problems.push({
          field: `${field}.${key}`,
          message: `header values are strings, got ${typeof item}`,
        })
    }
  }
}

export const anything: OptionCheck = () => {}

export function abortSignal(): OptionCheck {
  return (value, field, problems) => {
    if (value === undefined) return
    if (!(value instanceof AbortSignal)) problems.push({ field, message: 'expected an AbortSignal' })
  }
}
