/** Test helpers for the eql target: rules from inline Sigma YAML or straight from AST nodes. */
import { expect } from 'vitest'
import type { Rule, JsonEvent } from '../../src/rule/rule.js'
import { backend } from '../../src/backends/eql.js'
import { verifier } from '../../src/verify/eql.js'
import { checkEquivalence } from '../../src/proof/equivalence.js'

export const WIN_PROC = 'product: windows\n  category: process_creation'

export { sigma, astRule } from '../support/rules.js'

/** The query, or `REFUSED <codes>`. */
export function eql(rule: Rule): string {
  const c = backend.compile(rule)
  if (c.query === undefined) return `REFUSED ${c.diagnostics.map((d) => d.code).join(' ')}`
  return c.query
}

/** Running totals of the equivalence suites, printed as a summary line. */
export const totals = { rules: 0, events: 0, compared: 0, mismatches: 0, refused: 0 }

/**
 * The proof for one rule: the backend compiles it and the verifier's answer on every event equals
 * the reference evaluator's. Returns the expected answers so a test can also pin them.
 */
export async function expectEquivalent(rule: Rule, events: readonly JsonEvent[]): Promise<readonly boolean[]> {
  const r = await checkEquivalence(rule, events, backend, verifier)
  totals.rules++
  totals.events += events.length
  if (r.query === undefined) {
    totals.refused++
    throw new Error(`refused: ${r.diagnostics.map((d) => d.message).join('; ')}`)
  }
  const errors = r.diagnostics.filter((d) => d.severity === 'error' && d.code !== 'verify/mismatch')
  expect(errors, r.query).toEqual([])
  expect(r.actual, r.query).toBeDefined()
  totals.compared += events.length
  totals.mismatches += r.mismatches.length
  expect(r.mismatches.map((i) => ({ event: events[i], expected: r.expected[i], query: r.query }))).toEqual([])
  return r.expected
}
