import { describeDeletedUnderConnection } from '@anymq/conformance'
import { connect } from '@anymq/core'
import { adapter } from '../src/index.js'

describeDeletedUnderConnection({ name: 'memory', connect: () => connect('memory://deleted-under-connection', { adapter }) })
