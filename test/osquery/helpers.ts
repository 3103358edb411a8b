/** Test helpers for the osquery target: rules from inline Sigma YAML or straight from AST nodes. */
import type { Rule } from '../../src/rule/rule.js'
import { backend } from '../../src/backends/osquery.js'

export const WIN_PROC = 'product: windows\n  category: process_creation'

export { sigma, astRule } from '../support/rules.js'

/** The WHERE clause after the log source's fixed conditions, or the refusal codes. */
export function where(rule: Rule): string {
  const c = backend.compile(rule)
  if (c.query === undefined) return `REFUSED ${c.diagnostics.map((d) => d.code).join(' ')}`
  return c.query
}
