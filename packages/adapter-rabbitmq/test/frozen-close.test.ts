import { brokerUrl, describeFrozenClose } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { adapter } from '../src/index.js'

describeFrozenClose({
  name: 'rabbitmq',
  url: brokerUrl('ANYMQ_RABBITMQ_URL'),
  connect: (url, logger) => connect(url, { adapter, logger }),
  closeWithinMs: 15_000,
})
