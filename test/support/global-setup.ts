/**
 * Build once before the tests: the CLI tests run the compiled JavaScript, as users do. Type
 * errors are reported by `npm test`'s own `tsc` step; here a failed check must not hide the
 * tests' results, so the emitted JavaScript is used either way.
 *
 * Then start the pre-commit scenario (test/workflow/pre-commit-scenario.ts) in the background
 * when its test is among those selected: its two hook installations mostly wait on npm and the
 * disk, so the other test files run meanwhile instead of after it. Its result is written to a
 * file the test reads (`inject('preCommitResult')`).
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'
import { runPreCommitScenario } from '../workflow/pre-commit-scenario.js'

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where the background pre-commit scenario writes its result, when the setup started it. */
    preCommitResult?: string
  }
}

const PRE_COMMIT_TEST = 'test/workflow/pre-commit.test.ts'

export default function setup(project: TestProject): () => Promise<void> {
  const root = fileURLToPath(new URL('../..', import.meta.url))
  // One KQL gate cache for the whole run, never the user's ~/.cache: the CLI runs that validate
  // the same rules share Microsoft's parser's verdicts (src/verify/kql-gate-cache.ts). Workers
  // and the CLI processes they spawn inherit it.
  const cache = mkdtempSync(join(tmpdir(), 'rulesmith-test-cache-'))
  process.env['RULESMITH_CACHE_DIR'] ??= cache
  // The gate checks in-process here, as before its snapshot (src/verify/kql-gate-snapshot.ts):
  // a first miss would start a background build of it in this folder (about 2.5 s of CPU), which
  // the CLI tests' later misses pay back only about evenly (measured on test/cli: 63 s of CPU with
  // it, 63 s without), and workers calling the gate in-process would start builds too.
  // test/kql/gate-snapshot.test.ts tests the snapshot and its child directly.
  process.env['RULESMITH_KQL_SNAPSHOT'] ??= '0'
  const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url))
  // `npm test` (scripts/test.mjs) has just built dist/ and says so; a bare `vitest run` builds here.
  if (process.env['RULESMITH_TEST_BUILT'] !== '1')
    spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: root, stdio: 'ignore' })

  // File filters on the command line (`vitest run test/cli`): start it only when they select it.
  const filters = process.argv.slice(2).filter((a) => !a.startsWith('-') && !['run', 'vitest'].includes(a))
  const removeCache = () => rmSync(cache, { recursive: true, force: true })
  if (filters.length > 0 && !filters.some((f) => PRE_COMMIT_TEST.includes(f.replace(/^\.\//, ''))))
    return async () => removeCache()
  const dir = mkdtempSync(join(tmpdir(), 'rulesmith-pre-commit-result-'))
  const file = join(dir, 'result.json')
  project.provide('preCommitResult', file)
  const running = runPreCommitScenario().then((result) => writeFileSync(file, JSON.stringify(result)))
  return async () => {
    await running
    rmSync(dir, { recursive: true, force: true })
    removeCache()
  }
}
