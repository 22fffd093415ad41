import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: { conditions: ['@anymq/source'] },
  ssr: { resolve: { conditions: ['@anymq/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    // Under CI a JSON report is kept so .ci/run can print one plain 'N passed, N failed' line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.cache/vitest-report.json' }]] : ['default'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
  },
})
