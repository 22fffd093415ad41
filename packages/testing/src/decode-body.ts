/** The body as a test wants to see it: parsed JSON, text, or the bytes for anything else. */
export function decodeBody(body: Uint8Array, contentType: string): unknown {
  if (contentType.includes('json')) return JSON.parse(new TextDecoder().decode(body))
  if (contentType.startsWith('text/')) return new TextDecoder().decode(body)
  return body
}
