/**
 * Warnings about what a shipped format had to change for its consumer, or what the consumer will
 * refuse: an ATT&CK tactic written as its parent, a query over the consumer's length limit. The
 * artifact is still written; the warning says what differs from the rule.
 */
import type { DiagnosticCode } from '../diagnostics.js'
import { resolveAttack, sentinelAttack, type AttackNote } from './attack.js'
import type { FormatVars } from './render.js'

export interface FormatFinding {
  readonly code: DiagnosticCode
  readonly message: string
}

/**
 * Sentinel's analytics rule query limit: "The query can contain up to 10,000 characters"
 * (learn.microsoft.com/azure/sentinel/create-analytics-rules, "Rule query"); Azure-Sentinel's
 * template validation enforces the same.
 */
export const SENTINEL_QUERY_LIMIT = 10_000

/** Formats that write ATT&CK tags, and who reads them. */
const ATTACK_CONSUMERS: Readonly<Record<string, string>> = {
  'kql/sentinel': 'Sentinel',
  'kql/arm': 'Sentinel',
  'kql/defender': 'Defender XDR',
  'eql/elastic': 'Elastic',
  'spl/savedsearches': 'Splunk ES',
}

const note = (target: string, format: string, n: AttackNote): FormatFinding => ({
  code: n.code,
  message: `${target} format '${format}': ${n.message}`,
})

/** What the format `target/format` changed or the consumer will refuse, for one rule. */
export function formatFindings(target: string, format: string, vars: FormatVars): FormatFinding[] {
  const key = `${target}/${format}`
  if (!ATTACK_CONSUMERS[key]) return []
  const resolved = resolveAttack(vars.rule.attack)
  const out = resolved.notes.map((n) => note(target, format, n))
  if (key === 'kql/sentinel' || key === 'kql/arm') {
    out.push(...sentinelAttack(resolved).notes.map((n) => note(target, format, n)))
    if (vars.query.length > SENTINEL_QUERY_LIMIT)
      out.push({
        code: 'format/query-too-long',
        message: `kql format '${format}': the query has ${vars.query.length} characters; Sentinel analytics rules take at most ${SENTINEL_QUERY_LIMIT}`,
      })
  }
  return out
}
