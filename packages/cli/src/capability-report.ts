import { type Capabilities, capabilityNames, describeCapability } from '@anymq/core'

/** The capability table `doctor` and `conformance` print: one `  name  value` line per capability. */
export function capabilityReport(capabilities: Capabilities): string[] {
  const width = Math.max(...capabilityNames.map((name) => name.length))
  return capabilityNames.map((name) => `  ${name.padEnd(width)}  ${describeCapability(capabilities, name)}`)
}
