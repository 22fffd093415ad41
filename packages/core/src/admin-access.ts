import type { AdminCapabilities } from './capabilities.js'
import { UnsupportedFeatureError } from './errors.js'
import type { Runtime } from './runtime.js'
import type { TransportAdmin } from './spi/admin.js'

const instead: Record<keyof AdminCapabilities, string> = {
  stats: "use the broker's own console or CLI for depths",
  purge: "consume and ack the messages, or use the broker's own tools",
  delete: "delete it with the broker's own tools",
  list: "list them with the broker's own tools",
  deadLetterById: 'use deadLetters().peek() and redrive() of the whole dead-letter queue',
}

/** The transport's admin operations when the adapter declares `call`; otherwise `UnsupportedFeatureError` saying why (the adapter's reason when it gives one). */
export function adminFor(runtime: Runtime, call: keyof AdminCapabilities, feature: string): TransportAdmin {
  runtime.assertOpen()
  const admin = runtime.transport.admin
  if (runtime.capabilities.admin?.[call] !== true || admin === undefined)
    throw new UnsupportedFeatureError(runtime.adapter, feature, admin?.refusals?.[call] ?? instead[call])
  return admin
}
