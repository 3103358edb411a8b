/**
 * `validate`'s warnings about a rule's regular expressions, as the target engines will run them:
 * today, patterns that backtrack catastrophically (backtracking.ts).
 */
import type { Node } from '../ast/nodes.js'
import type { Diagnostic } from '../diagnostics.js'
import type { Rule } from '../rule/rule.js'
import { catastrophicBacktracking } from './backtracking.js'
import { parseSigmaRegex } from './parse.js'

export function regexWarnings(rule: Rule): Diagnostic[] {
  const out: Diagnostic[] = []
  const visit = (n: Node): void => {
    if (n.kind === 'And' || n.kind === 'Or') n.items.forEach(visit)
    else if (n.kind === 'Not') visit(n.item)
    else if (n.kind === 'Regex') {
      const parsed = parseSigmaRegex(n.source, n.flags)
      if ('unsupported' in parsed) return
      const found = catastrophicBacktracking(parsed)
      if (!found) return
      out.push({
        code: 'rule/regex-backtracking',
        severity: 'warning',
        message: `the regular expression ${JSON.stringify(n.source)} on ${n.field} can take exponential time on a near-miss value in backtracking engines (PCRE in Splunk, Java in Elasticsearch scripts, std::regex in osquery; RE2 in KQL is linear): ${found.why}`,
        file: rule.file,
        ...(n.at ? { at: n.at } : { at: rule.at }),
      })
    }
  }
  visit(rule.detection)
  return out
}
