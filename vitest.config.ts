import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // The CLI tests spawn the built CLI; the KQL parser's first load takes about a second.
    // Two workers on a 2-core machine: vitest's default leaves one core idle here.
    maxWorkers: 2,
    // Test files share each worker's module cache: Microsoft's KQL parser, sql.js and the
    // backends load once per worker instead of once per file. Measured over the whole suite:
    // 207 s of CPU isolated, 148 s shared. No test file changes process-wide state it does not
    // restore (test/kql/gate-cache.test.ts puts RULESMITH_CACHE_DIR back and resets the record).
    isolate: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
