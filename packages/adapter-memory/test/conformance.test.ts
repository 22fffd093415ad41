import { connect } from '@anymq/core'
import { describeConformance } from '@anymq/conformance'
import { adapter, capabilities } from '../src/index.js'

describeConformance({
  name: 'memory',
  capabilities,
  connect: () => connect('memory://conformance', { adapter }),
})
