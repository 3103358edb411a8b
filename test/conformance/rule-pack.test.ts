/**
 * The shipped rule pack, proven beyond its hand-written samples: for every rule and every target
 * that compiles it, adversarial events generated from the rule's AST (case variants, look-alikes,
 * literal wildcards, quotes, backslashes, empty and missing fields, non-ASCII) must be selected
 * by the emitted query exactly when the reference evaluator selects them — and the same events from
 * neighbouring log sources (another event id, channel, category) must not be. Events the target's
 * schema cannot hold (text in an integer column) are left out, and must stay a minority.
 */
import { withOrigin } from '../../src/origin.js'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { loadPaths } from '../../src/rule/load.js'
import { loadBackend } from '../../src/backends/index.js'
import { loadVerifier } from '../../src/verify/index.js'
import { TARGET_IDS, type TargetId, type TargetOptions } from '../../src/backends/types.js'
import { evaluateRule } from '../../src/evaluate/evaluate.js'
import { adversarialEvents } from '../../src/proof/adversarial.js'
import { readSampleTests, testsFileFor } from '../../src/proof/sample-tests.js'

const RULES = fileURLToPath(new URL('../../rules', import.meta.url))
/** Events per rule of its own log source; RULESMITH_ADVERSARIAL_EVENTS asks for a bigger run. */
const PER_RULE = Number(process.env.RULESMITH_ADVERSARIAL_EVENTS) || 80
const { rules, diagnostics } = loadPaths([RULES])

describe('rule pack', () => {
  it('loads without errors', () => {
    expect(diagnostics.filter((d) => d.severity === 'error')).toEqual([])
    expect(rules.length).toBeGreaterThan(20)
  })

  // Every target with its default environment, and KQL's Sentinel tables too.
  const runs: { target: TargetId; options: TargetOptions }[] = [
    ...TARGET_IDS.map((target) => ({ target, options: {} })),
    { target: 'kql', options: { variant: 'sentinel' } },
  ]
  for (const { target, options } of runs) {
    it(`${target}${options.variant ? ` (${options.variant})` : ''}: every compiled rule agrees with the reference on adversarial events`, async () => {
      const backend = await loadBackend(target)
      const verifier = await loadVerifier(target)
      let compiled = 0
      let checked = 0
      let skipped = 0
      const mismatches: string[] = []
      for (const rule of rules) {
        const c = backend.compile(rule, options)
        if (c.query === undefined) continue
        compiled++
        // PER_RULE events of the rule's log source, then some of them from neighbouring log sources.
        const samples = readSampleTests(testsFileFor(rule.file)).tests?.events.filter((s) => s.expect) ?? []
        const events = withOrigin(
          adversarialEvents(
            rule.detection,
            PER_RULE,
            1489,
            rule.logsource,
            samples.map((s) => s.event),
          ),
          rule.logsource,
        )
        const v = await verifier.verify(c.query, events, options)
        expect(
          v.diagnostics.filter((d) => d.severity === 'error'),
          rule.file,
        ).toEqual([])
        const skip = new Set(v.unrepresentable ?? [])
        skipped += skip.size
        events.forEach((e, i) => {
          if (skip.has(i)) return
          const want = evaluateRule(rule, e)
          if (v.matches![i] !== want)
            mismatches.push(`${rule.file}: rule ${want}, query ${v.matches![i]}: ${JSON.stringify(e)}`)
        })
        checked += events.length - skip.size
      }
      expect(mismatches).toEqual([])
      expect(compiled).toBeGreaterThan(0)
      expect(checked).toBeGreaterThan(compiled * 20)
      expect(skipped, 'most events must be representable in the target').toBeLessThan(checked / 4)
    })
  }
})
