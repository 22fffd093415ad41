import { defaults } from '../src/redis-config.js'
import { driverNames, type RedisDriverName } from '../src/redis-driver.js'

/** Every client library the adapter runs on; the adapter's own tests run on each. */
export const drivers = driverNames

/** The default driver; the full conformance suite runs on it, a focused part on the others. */
export const defaultDriver: RedisDriverName = defaults.driver

/** `url` with `?driver=` set. */
export function withDriver(url: string, driver: RedisDriverName): string {
  const copy = new URL(url)
  copy.searchParams.set('driver', driver)
  return copy.toString()
}
