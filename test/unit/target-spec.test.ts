/**
 * Each backend's language facts are one `satisfies TargetSpec` object (src/backends/spec.ts) that
 * its renderer reads: the objects are well-formed, and changing one changes the emitted text.
 */
import { describe, expect, it } from 'vitest'
import { backend as eqlBackend, EQL } from '../../src/backends/eql.js'
import { backend as kqlBackend, KQL } from '../../src/backends/kql.js'
import { backend as osqueryBackend, OSQUERY } from '../../src/backends/osquery.js'
import { SPL } from '../../src/backends/spl.js'
import { PASSES, type TargetSpec } from '../../src/backends/spec.js'
import { isDiagnosticCode } from '../../src/diagnostics/codes.js'
import { loadRuleText } from '../../src/rule/load.js'

const SPECS: readonly TargetSpec[] = [SPL, KQL, EQL, OSQUERY]

const rule = loadRuleText(
  [
    'title: t',
    'logsource: { product: windows, category: process_creation }',
    'detection:',
    '  a: { CommandLine|contains: x }',
    '  b: { Image|endswith: y }',
    '  c: { CommandLine|contains: z }',
    '  condition: (a or b) and not c',
  ].join('\n'),
  'r.yml',
).rules[0]!

describe('target specs', () => {
  it.each(SPECS.map((s) => [s.id, s] as const))(
    '%s: operators, binding powers, passes and refusal codes',
    (_, spec) => {
      for (const ctx of Object.values(spec.contexts)) {
        expect(ctx.and.trim() === '' || ctx.and === ctx.and.trimStart().padStart(ctx.and.length)).toBe(true)
        expect(new Set(Object.values(ctx.bindingPower)).size).toBe(3)
        expect(ctx.bindingPower.Not).toBeGreaterThan(Math.max(ctx.bindingPower.And, ctx.bindingPower.Or))
      }
      for (const p of spec.passes) expect(Object.keys(PASSES)).toContain(p)
      for (const code of Object.values(spec.refuses)) expect(isDiagnosticCode(code!)).toBe(true)
    },
  )

  it('the renderers read their operators and binding powers from the spec', () => {
    const cases = [
      [KQL.contexts.where, kqlBackend],
      [EQL.contexts.where, eqlBackend],
      [OSQUERY.contexts.where, osqueryBackend],
    ] as const
    for (const [where, backend] of cases) {
      const before = backend.compile(rule).query!
      const spec = where as { or: string; bindingPower: { Or: number; And: number } }
      const [or, bp] = [spec.or, { ...spec.bindingPower }]
      try {
        spec.or = ' |OR| '
        expect(backend.compile(rule).query, backend.id).toContain(' |OR| ')
        // An OR that binds tighter than AND needs no parentheses under it.
        spec.or = or
        spec.bindingPower.Or = spec.bindingPower.And + 0.5
        expect(backend.compile(rule).query!.length, backend.id).toBeLessThan(before.length)
      } finally {
        spec.or = or
        Object.assign(spec.bindingPower, bp)
      }
      expect(backend.compile(rule).query).toBe(before)
    }
  })
})
