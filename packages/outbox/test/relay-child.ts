// The relay as its own process, from source: what `anymq-outbox-relay` runs from dist.
import { main } from '../src/relay-process.js'

await main()
