import { ConfigError, type ConfigProblem } from '../errors.js'
import { describeValue } from '../options-validation.js'

export interface UrlOptionSpec {
  type: 'string' | 'integer' | 'boolean' | 'enum'
  values?: readonly string[]
  min?: number
  max?: number
  description?: string
}

/**
 * Reads query parameters of a connection URL against a spec. Every unknown or malformed parameter
 * is reported at once in one {@link ConfigError} naming what is allowed; the given value is shown
 * only when the parameter's name is not credential-like (`?token=`, `?password=` never are).
 * Given `problems`, it adds them there instead of throwing, so that an adapter reports its URL and
 * its `broker` options in one error; a malformed parameter is then left out of the result.
 */
export function parseUrlOptions<Spec extends Record<string, UrlOptionSpec>>(
  url: URL,
  spec: Spec,
  adapter: string,
  problems?: ConfigProblem[],
): {
  [Name in keyof Spec]?: Spec[Name]['type'] extends 'integer' ? number : Spec[Name]['type'] extends 'boolean' ? boolean : string
} {
  const found: ConfigProblem[] = problems ?? []
  const result: Record<string, string | number | boolean> = {}
  for (const [name, raw] of url.searchParams) {
    const option = spec[name]
    const given = describeValue(raw, `url ?${name}`)
    if (!option) {
      found.push({
        field: `url ?${name}`,
        message: `unknown parameter; allowed: ${Object.keys(spec).join(', ') || '(none)'}`,
      })
      continue
    }
    switch (option.type) {
      case 'integer': {
        const value = Number(raw)
        if (!Number.isInteger(value) || (option.min !== undefined && value < option.min) || (option.max !== undefined && value > option.max)) {
          found.push({
            field: `url ?${name}`,
            message: `${given} is not an integer in ${option.min ?? '-∞'}..${option.max ?? '∞'}`,
          })
        } else result[name] = value
        break
      }
      case 'boolean':
        if (raw !== 'true' && raw !== 'false')
          found.push({
            field: `url ?${name}`,
            message: `${given} is not true or false`,
          })
        else result[name] = raw === 'true'
        break
      case 'enum':
        if (!option.values?.includes(raw))
          found.push({
            field: `url ?${name}`,
            message: `${given} is not one of ${option.values?.join(', ')}`,
          })
        else result[name] = raw
        break
      default:
        result[name] = raw
    }
  }
  if (problems === undefined && found.length > 0) throw new ConfigError(found, { adapter })
  return result as never
}

/**
 * Decodes a percent-encoded part of a URL (user, password, path). A malformed escape (`%zz`) is kept
 * as written instead of throwing a `URIError`, so a typo in a password fails as a refused login.
 */
export function decodeUrlPart(value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}
