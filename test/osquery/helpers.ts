/** Test helpers for the osquery target: rules from inline Sigma YAML or straight from AST nodes. */
import { loadRuleText } from '../../src/rule/load.js'
import type { LogSource, Rule } from '../../src/rule/rule.js'
import type { Node } from '../../src/ast/nodes.js'
import { backend } from '../../src/backends/osquery.js'

export const WIN_PROC = 'product: windows\n  category: process_creation'

/** A rule from a detection block (YAML, indented by two spaces) and a log source block. */
export function sigma(detection: string, logsource = WIN_PROC): Rule {
  const text = `title: Test rule\nid: 8f0c6d7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f\nlogsource:\n  ${logsource}\ndetection:\n${detection.replace(/^\n/, '').replace(/\s+$/, '')}\nlevel: medium\n`
  const loaded = loadRuleText(text, 'test.yml')
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error')
  if (errors.length || loaded.rules.length !== 1) throw new Error(`rule did not load: ${JSON.stringify(errors)}\n${text}`)
  return loaded.rules[0]!
}

/** A rule around an AST built in the test. */
export function astRule(detection: Node, logsource: LogSource = { product: 'windows', category: 'process_creation' }): Rule {
  return {
    file: 'ast.yml',
    at: { line: 0, col: 0 },
    title: 'AST rule',
    references: [],
    tags: [],
    falsepositives: [],
    fields: [],
    logsource,
    detection,
    raw: {},
  }
}

/** The WHERE clause after the log source's fixed conditions, or the refusal codes. */
export function where(rule: Rule): string {
  const c = backend.compile(rule)
  if (c.query === undefined) return `REFUSED ${c.diagnostics.map((d) => d.code).join(' ')}`
  return c.query
}
