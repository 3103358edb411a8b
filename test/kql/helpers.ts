/** Builders for kql tests: rules and AST nodes written directly (the Sigma loader is not needed). */
import { astRule } from '../support/rules.js'
import type { Node, Pattern, Segment } from '../../src/ast/nodes.js'
import type { LogSource, Rule } from '../../src/rule/rule.js'

/** A Sigma value in its escaped notation (`*` any, `?` one, `\*` `\?` `\\` literal) as a Pattern. */
export function pat(sigma: string): Pattern {
  const out: Segment[] = []
  let lit = ''
  const flush = () => {
    if (lit) out.push({ kind: 'lit', text: lit })
    lit = ''
  }
  const chars = [...sigma]
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!
    if (c === '\\' && (chars[i + 1] === '*' || chars[i + 1] === '?' || chars[i + 1] === '\\')) {
      lit += chars[++i]
    } else if (c === '*') {
      flush()
      out.push({ kind: 'any' })
    } else if (c === '?') {
      flush()
      out.push({ kind: 'one' })
    } else lit += c
  }
  flush()
  return out
}

/** A literal value (no wildcards at all). */
export const exact = (text: string): Pattern => (text === '' ? [] : [{ kind: 'lit', text }])

export const match = (field: string, pattern: Pattern, cased = false): Node => ({
  kind: 'Match',
  field,
  pattern,
  cased,
  at: { line: 5, col: 4 },
})
export const contains = (field: string, text: string, cased = false): Node =>
  match(field, [{ kind: 'any' }, { kind: 'lit', text }, { kind: 'any' }], cased)
export const startswith = (field: string, text: string, cased = false): Node =>
  match(field, [{ kind: 'lit', text }, { kind: 'any' }], cased)
export const endswith = (field: string, text: string, cased = false): Node =>
  match(field, [{ kind: 'any' }, { kind: 'lit', text }], cased)
export const is = (field: string, text: string, cased = false): Node => match(field, exact(text), cased)

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
