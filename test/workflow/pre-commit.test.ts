/**
 * The pre-commit hook installs and runs with real `pre-commit` from a release tag and from a
 * commit id, in a repository `rulesmith init` wrote: the example rule passes, a rule with a typo
 * in its condition is stopped at its line. The scenario itself is in pre-commit-scenario.ts.
 */
import { existsSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, inject, it } from 'vitest'
import { BAD, GOOD, runPreCommitScenario, type ScenarioResult } from './pre-commit-scenario.js'

/** The result of the run the global setup started, or a run of our own when it started none. */
async function scenario(): Promise<ScenarioResult> {
  const file = inject('preCommitResult')
  if (!file) return runPreCommitScenario()
  const deadline = Date.now() + 280_000
  while (!existsSync(file)) {
    if (Date.now() > deadline) throw new Error('the pre-commit scenario did not finish in time')
    await sleep(250)
  }
  return JSON.parse(readFileSync(file, 'utf8')) as ScenarioResult
}

describe('pre-commit installs and runs the rulesmith-validate hook', () => {
  it('from the release tag and from a commit id: a good rule passes, a bad one is stopped at its line', async () => {
    const result = await scenario()
    expect(result.failure).toBeUndefined()
    expect(result.preCommit, 'pre-commit must be installed (.ci/run: apt-get install pre-commit)').toMatch(
      /^pre-commit \d+\.\d+/,
    )
    expect(result.revs.map((r) => r.rev)).toEqual([result.tag, expect.stringMatching(/^[0-9a-f]{40}$/)])
    for (const { rev, init, good, bad } of result.revs) {
      expect(init.code, init.out).toBe(0)
      expect(good.out, rev).toMatch(/rulesmith validate\.+Passed/)
      expect(good.code, good.out).toBe(0)
      expect(bad.out, rev).toMatch(/rulesmith validate\.+Failed/)
      expect(bad.out).toContain(
        `${BAD}:23:32: error: condition refers to 'selection_cmd', which is not defined in detection`,
      )
      expect(bad.out).not.toContain(`${GOOD}:`)
      expect(bad.code, bad.out).toBe(1)
    }
  }, 300_000)
})
