import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // The CLI tests spawn the built CLI; the KQL parser's first load takes about a second.
    // Two workers on a 2-core machine: vitest's default leaves one core idle here.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
