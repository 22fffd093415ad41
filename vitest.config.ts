import { defineConfig } from 'vitest/config'
import { SkipReasonsReporter } from './test/skip-reasons-reporter.js'

// scripts/test-lanes.mjs gives each lane its own report file and merges them afterwards.
const reportFile = process.env.ANYMQ_VITEST_REPORT
const jsonReport: ['json', { outputFile: string }] = ['json', { outputFile: reportFile ?? '.cache/vitest-report.json' }]

export default defineConfig({
  resolve: { conditions: ['@anymq/source'] },
  ssr: { resolve: { conditions: ['@anymq/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // Under CI (and in each lane of scripts/test-lanes.mjs) a JSON report is kept, so .ci/run can print one plain 'N passed, N failed' line.
    // Skip reasons first, so the default reporter's summary stays the last thing printed.
    reporters: [new SkipReasonsReporter(), 'default', ...(process.env.CI || reportFile ? [jsonReport] : [])],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
})
