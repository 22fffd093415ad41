import { describeConformance } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { adapter, capabilities } from '../src/index.js'

describeConformance({
  name: 'memory',
  capabilities,
  connect: () => connect('memory://conformance', { adapter }),
})
