import { defineConfig } from 'vitest/config'

export default defineConfig({
  resolve: { conditions: ['@anymq/source'] },
  ssr: { resolve: { conditions: ['@anymq/source'] } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'examples/*/test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
})
