/** Builders for the spl tests: rules from inline Sigma YAML (through the real loader) or from AST nodes. */
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'vitest'
import { astRule } from '../support/rules.js'
import type { Node, Pattern, Segment } from '../../src/ast/nodes.js'
import { backend } from '../../src/backends/spl.js'
import { verifier } from '../../src/verify/spl.js'
import { checkEquivalence } from '../../src/proof/equivalence.js'
import { loadRuleText } from '../../src/rule/load.js'
import type { JsonEvent, LogSource, Rule } from '../../src/rule/rule.js'
import type { TargetOptions } from '../../src/backends/types.js'

/** A rule from Sigma YAML; the test fails if the loader reports an error. */
export function sigma(text: string, file = 'rules/test.yml'): Rule {
  const loaded = loadRuleText(text, file)
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error')
  expect(errors, JSON.stringify(errors)).toEqual([])
  expect(loaded.rules).toHaveLength(1)
  return loaded.rules[0]!
}

/** A process_creation rule around one detection block (YAML lines, indented under `detection:`). */
export function processRule(detection: string, condition = 'sel'): Rule {
  return sigma(`title: Test rule
id: 5f0c3f9e-1111-4222-8333-944455556666
status: test
logsource:
  product: windows
  category: process_creation
detection:
${detection.replace(/^\n/, '').replace(/^/gm, '  ')}
  condition: ${condition}
level: high
`)
}

/** A Sigma value in its escaped notation (`*` any, `?` one, `\*` `\?` `\\` literal) as a Pattern. */
export function pat(sigmaValue: string): Pattern {
  const out: Segment[] = []
  let lit = ''
  const flush = (): void => {
    if (lit) out.push({ kind: 'lit', text: lit })
    lit = ''
  }
  const chars = [...sigmaValue]
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!
    if (c === '\\' && (chars[i + 1] === '*' || chars[i + 1] === '?' || chars[i + 1] === '\\')) lit += chars[++i]
    else if (c === '*' || c === '?') {
      flush()
      out.push({ kind: c === '*' ? 'any' : 'one' })
    } else lit += c
  }
  flush()
  return out
}

export const PROCESS: LogSource = { product: 'windows', category: 'process_creation' }

/** A rule around an AST, named as the target's tests expect in diagnostics. */
export function rule(detection: Node, logsource: LogSource = PROCESS, extra: Partial<Rule> = {}): Rule {
  return astRule(detection, logsource, {
    file: 'rules/test.yml',
    id: '5f0c3f9e-1111-4222-8333-944455556666',
    title: 'Test rule',
    ...extra,
  })
}

export const match = (field: string, sigmaValue: string, cased = false): Node => ({
  kind: 'Match',
  field,
  pattern: pat(sigmaValue),
  cased,
  at: { line: 5, col: 4 },
})

/**
 * A pipeline keeping process creation to Sysmon event 1 (no Security 4688 branch): the tests of
 * how a construct is written read one branch (test/spl/logsource-scope.test.ts reads both).
 */
export const SYSMON_ONLY = join(mkdtempSync(join(tmpdir(), 'rulesmith-spl-')), 'sysmon-only.yml')
writeFileSync(
  SYSMON_ONLY,
  'logsources:\n  windows-process-creation:\n    match: { product: windows, category: process_creation }\n    macro: sysmon\n    search: { EventCode: 1 }\n',
)

/** The emitted query (process creation: the Sysmon branch alone), failing the test if the backend refused. */
export function compileOk(r: Rule, options: TargetOptions = { pipeline: SYSMON_ONLY }): string {
  const c = backend.compile(r, options)
  expect(
    c.diagnostics.filter((d) => d.severity === 'error'),
    JSON.stringify(c.diagnostics),
  ).toEqual([])
  expect(c.query).toBeDefined()
  return c.query!
}

/** The query without the log source prefix of windows process_creation. */
export const SYSMON1 = '`sysmon` EventCode=1'

/** Reference vs verifier on every event: the mismatching indexes (with the query for messages). */
export async function mismatches(
  r: Rule,
  events: readonly JsonEvent[],
  options?: TargetOptions,
): Promise<{ query?: string; mismatches: number[]; errors: string[] }> {
  const eq = await checkEquivalence(r, events, backend, verifier, options)
  return {
    query: eq.query,
    mismatches: [...eq.mismatches],
    errors: eq.diagnostics
      .filter((d) => d.severity === 'error' && d.code !== 'verify/mismatch')
      .map((d) => `${d.code}: ${d.message}`),
  }
}
