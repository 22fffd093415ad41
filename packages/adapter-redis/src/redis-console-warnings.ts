import type { Logger } from '@anymq/core/spi'

/**
 * ioredis writes a few warnings straight to `console.warn` (a password given to a server that needs
 * none, an AUTH form the server does not know, an INFO ready check refused by an ACL). While one of
 * our clients is connecting, those lines, and only those, go to that connection's logger instead; any
 * other `console.warn` call passes through untouched.
 */
const ioredisWarning = /^\[(WARN|ERROR)\] |^Skipping the ready check/

const connecting: Logger[] = []
let original: typeof console.warn | undefined
let installed: typeof console.warn | undefined

/** Routes ioredis' console warnings to `logger` until the returned function is called (idempotent). */
export function routeIoredisWarnings(logger: Logger): () => void {
  connecting.push(logger)
  if (installed === undefined) {
    const passThrough = console.warn
    original = passThrough
    installed = (...args: unknown[]) => {
      const target = connecting.at(-1)
      if (target && typeof args[0] === 'string' && ioredisWarning.test(args[0])) target.warn(`redis: ${args[0]}`)
      else passThrough.apply(console, args)
    }
    console.warn = installed
  }
  let released = false
  return () => {
    if (released) return
    released = true
    const index = connecting.lastIndexOf(logger)
    if (index >= 0) connecting.splice(index, 1)
    // Put the original back unless someone replaced console.warn after us (then ours stays, passing through).
    if (connecting.length === 0 && console.warn === installed) {
      console.warn = original as typeof console.warn
      installed = undefined
      original = undefined
    }
  }
}
