// The order service, end to end: `pnpm start` (SQLite in a temp file, memory:// broker), or
// DATABASE_URL=postgres://… ANYMQ_URL=amqp://… pnpm start (with `import '@anymq/rabbitmq'` installed).
import { runOrderService } from './order-service.js'

const summary = await runOrderService({ databaseUrl: process.env.DATABASE_URL, brokerUrl: process.env.ANYMQ_URL })
console.log(summary)
