import { brokerUrl, describeFrozenClose } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { adapter } from '../src/index.js'

describeFrozenClose({
  name: 'redis',
  url: brokerUrl('ANYMQ_REDIS_URL'),
  connect: (url, logger) => connect(url, { adapter, logger }),
  closeWithinMs: 20_000,
})
