import type { ConformanceGroup } from '@anymq/conformance'

/** What `anymq conformance` hands to the suite file it runs. */
export interface ConformanceSettings {
  url: string
  groups: ConformanceGroup[]
  restartCommand: string | undefined
  timeScale: number
  volume: number | undefined
}
