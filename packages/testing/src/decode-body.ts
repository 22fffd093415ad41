import { wireHeaders } from '@anymq/core/spi'

/**
 * The body as a test wants to see it: parsed JSON, text, or the bytes for anything else. A
 * claim-checked message carries only its blob key on the wire: it is shown as `{ claimCheck: key }`.
 */
export function decodeBody(message: { body: Uint8Array; contentType: string; headers: Readonly<Record<string, string>> }): unknown {
  const claimCheck = message.headers[wireHeaders.claimCheck]
  if (claimCheck !== undefined) return { claimCheck }
  const { body, contentType } = message
  if (contentType.includes('json')) return JSON.parse(new TextDecoder().decode(body))
  if (contentType.startsWith('text/')) return new TextDecoder().decode(body)
  return body
}
