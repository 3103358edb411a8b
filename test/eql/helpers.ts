/** Test helpers for the eql target: rules from inline Sigma YAML or straight from AST nodes. */
import { expect } from 'vitest'
import { loadRuleText } from '../../src/rule/load.js'
import type { LogSource, Rule, JsonEvent } from '../../src/rule/rule.js'
import type { Node } from '../../src/ast/nodes.js'
import { backend } from '../../src/backends/eql.js'
import { verifier } from '../../src/verify/eql.js'
import { checkEquivalence } from '../../src/verify/equivalence.js'

export const WIN_PROC = 'product: windows\n  category: process_creation'

/** A rule from a detection block (YAML) and a log source block. */
export function sigma(detection: string, logsource = WIN_PROC): Rule {
  const text = `title: Test rule\nid: 8f0c6d7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f\nlogsource:\n  ${logsource}\ndetection:\n${detection.replace(/^\n/, '').replace(/\s+$/, '')}\nlevel: medium\n`
  const loaded = loadRuleText(text, 'test.yml')
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error')
  if (errors.length || loaded.rules.length !== 1) throw new Error(`rule did not load: ${JSON.stringify(errors)}\n${text}`)
  return loaded.rules[0]!
}

/** A rule around an AST built in the test. */
export function astRule(detection: Node, logsource: LogSource = { product: 'windows', category: 'process_creation' }): Rule {
  return { file: 'ast.yml', at: { line: 0, col: 0 }, title: 'AST rule', references: [], tags: [], falsepositives: [], fields: [], logsource, detection, raw: {} }
}

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
