/** Build rules from inline YAML for tests. */
import { loadRuleText } from '../../src/rule/load.js'
import type { LogSource, Rule } from '../../src/rule/rule.js'
import type { Node } from '../../src/ast/nodes.js'
import type { Diagnostic } from '../../src/diagnostics.js'

/** A full rule document around a detection block (indented as YAML under `detection:`). */
export function ruleYaml(detection: string, logsource = 'product: windows\n    category: process_creation'): string {
  return `title: Test rule
id: 8f0c6d7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f
status: test
logsource:
    ${logsource}
detection:
${detection.replace(/^\n/, '').replace(/\s+$/, '')}
level: medium
`
}

/** Load a rule from a detection block; throws (failing the test) when it does not load. */
export function rule(
  detection: string,
  options: { placeholders?: Record<string, string[]>; logsource?: string } = {},
): Rule {
  const loaded = loadRuleText(
    ruleYaml(detection, options.logsource),
    'test.yml',
    options.placeholders ? { placeholders: options.placeholders } : {},
  )
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error')
  if (errors.length || loaded.rules.length !== 1) throw new Error(`rule did not load: ${JSON.stringify(errors)}`)
  return loaded.rules[0]!
}

/** The diagnostics of a detection block, as `line:col code` (1-based) plus the message. */
export function diagnosticsOf(detection: string): Diagnostic[] {
  return loadRuleText(ruleYaml(detection), 'test.yml').diagnostics
}

export const WINDOWS_PROCESS: LogSource = { product: 'windows', category: 'process_creation' }

/** A rule around an AST built in the test (no YAML involved). */
export function astRule(detection: Node, logsource: LogSource = WINDOWS_PROCESS, extra: Partial<Rule> = {}): Rule {
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
    ...extra,
  }
}

/** A rule from a detection block (YAML) and a log source block indented by two spaces. */
export function sigma(detection: string, logsource = 'product: windows\n  category: process_creation'): Rule {
  const text = `title: Test rule\nid: 8f0c6d7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f\nlogsource:\n  ${logsource}\ndetection:\n${detection.replace(/^\n/, '').replace(/\s+$/, '')}\nlevel: medium\n`
  const loaded = loadRuleText(text, 'test.yml')
  const errors = loaded.diagnostics.filter((d) => d.severity === 'error')
  if (errors.length || loaded.rules.length !== 1)
    throw new Error(`rule did not load: ${JSON.stringify(errors)}\n${text}`)
  return loaded.rules[0]!
}
