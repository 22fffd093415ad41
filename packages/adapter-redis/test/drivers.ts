import { defaults } from '../src/redis-config.js'
import { driverNames, type RedisDriverName } from '../src/redis-driver.js'

/** Every client library the adapter runs on; the adapter's own tests run on each. */
export const drivers = driverNames

/** The default driver; the full conformance suite runs on it, a focused part on the others. */
export const defaultDriver: RedisDriverName = defaults.driver

/** `url` with `?driver=` added (textually: a Sentinel URL lists several hosts, which `new URL` refuses). */
export function withDriver(url: string, driver: RedisDriverName): string {
  return `${url}${url.includes('?') ? '&' : '?'}driver=${driver}`
}
