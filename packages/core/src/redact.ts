const secretParameter =
  /^(password|passwd|pass|pwd|secret|token|access[-_]?token|secret[-_]?access[-_]?key|session[-_]?token|api[-_]?key|auth|authorization|sasl[-_]?password|credentials?)$/i

/** Returns the URL with its password and secret-looking query parameters replaced by `***`. */
export function redactUrl(url: string | URL): string {
  let parsed: URL
  try {
    parsed = new URL(String(url))
  } catch {
    return redactUserInfo(String(url))
  }
  if (parsed.password) parsed.password = '***'
  // A user name that is a token (nats://<token>@host), once the adapter registered it as a secret.
  if (parsed.username && isRegisteredSecret(parsed.username)) parsed.username = '***'
  for (const name of [...parsed.searchParams.keys()]) {
    if (secretParameter.test(name)) parsed.searchParams.set(name, '***')
  }
  return parsed.toString().replaceAll('%2A%2A%2A', '***')
}

const registeredSecrets = new Set<string>()

/** Whether `text` (as it stands in a URL, or decoded) was registered with {@link registerSecret}. */
export function isRegisteredSecret(text: string): boolean {
  return registeredSecrets.has(text) || registeredSecrets.has(safeDecode(text))
}

/**
 * Registers a secret (a password from a URL, a token from config) so that every anymq error and
 * log line has it replaced by `***`, even when a broker client echoes it back in its own error text.
 */
export function registerSecret(secret: string | undefined): void {
  if (secret && secret.length >= 3) {
    registeredSecrets.add(secret)
    const decoded = safeDecode(secret)
    if (decoded !== secret) registeredSecrets.add(decoded)
  }
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

const credentialsInUrl = /([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^@/\s]+)@/gi
/** How core's option checks label a URL parameter (`url ?name`), see `parseUrlOptions`. */
const urlParameterLabel = 'url ?'
const secretAssignment = /\b(password|passwd|pwd|secret|token|secretAccessKey|sessionToken|apiKey|auth)(["']?\s*[:=]\s*["']?)([^\s"',;&}]+)/gi

/**
 * A URL as typed, with everything between `://` and its last `@` masked: a password holding a raw
 * `/`, `?`, `#` or `@` ends the URL's user info early, so its tail would be shown as host or path.
 */
export function redactUserInfo(text: string): string {
  const start = text.indexOf('://')
  const at = text.lastIndexOf('@')
  if (start < 0 || at <= start) return redactText(text)
  return redactText(`${text.slice(0, start + 3)}***${text.slice(at)}`)
}

/** Removes URL passwords, `password=…`-style assignments and registered secrets from free text. */
export function redactText(text: string): string {
  const withoutUrlCredentials = text.replace(credentialsInUrl, '$1***@')
  // Not core's own label of a URL parameter, `url ?password: <problem>`: the problem is no secret.
  let result = withoutUrlCredentials.replace(secretAssignment, (match: string, name: string, separator: string, _value: string, at: number) =>
    withoutUrlCredentials.endsWith(urlParameterLabel, at) ? match : `${name}${separator}***`,
  )
  for (const secret of registeredSecrets) {
    if (result.includes(secret)) result = result.split(secret).join('***')
  }
  return result
}

/**
 * Node's `util.inspect` hook (a registered symbol, so core needs no `node:util`). Core's objects that
 * reach the adapter (its transport, a consumer) print through it as a short summary: a broker client
 * keeps its connection settings, password included, and `console.log(mq)` would otherwise print them.
 */
export const inspectSymbol: unique symbol = Symbol.for('nodejs.util.inspect.custom') as never
