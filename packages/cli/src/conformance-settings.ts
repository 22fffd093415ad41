import type { ConformanceGroup } from '@anymq/conformance/groups'

/** What `anymq conformance` hands to the suite file it runs. */
export interface ConformanceSettings {
  url: string
  groups: ConformanceGroup[]
  restartCommand: string | undefined
  timeScale: number
  volume: number | undefined
}
