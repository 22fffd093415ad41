import { brokerUrl, describeDeletedUnderConnection } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { describe } from 'vitest'
import { adapter } from '../src/index.js'

const url = brokerUrl('ANYMQ_RABBITMQ_URL')

describe.skipIf(!url)('rabbitmq (ANYMQ_RABBITMQ_URL unset: run scripts/brokers.sh up rabbitmq)', () => {
  // Queues only: a topic's exchange deleted under a running subscription takes the subscription queue's
  // binding with it, and nothing binds it again (see the README: a deleted topic).
  describeDeletedUnderConnection({ name: 'rabbitmq', connect: () => connect(url as string, { adapter }), kinds: ['queue'] })
})
