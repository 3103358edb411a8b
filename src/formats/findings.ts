/**
 * Warnings about what a shipped format had to change for its consumer, or what the consumer will
 * refuse: an ATT&CK tactic written as its parent, a query over the consumer's length limit. The
 * artifact is still written; the warning says what differs from the rule.
 */
import type { DiagnosticCode } from '../diagnostics.js'
import { elasticTactic, sentinelTactic, type ConsumerTactic } from './attack.js'
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

const mapped = (
  target: string,
  format: string,
  consumer: string,
  tactics: readonly string[],
  spell: (t: string) => ConsumerTactic,
): FormatFinding[] =>
  tactics.flatMap((t) => {
    const c = spell(t)
    return c.mappedFrom
      ? [
          {
            code: 'format/attack-mapped' as const,
            message: `${target} format '${format}': ATT&CK tactic '${c.mappedFrom}' is not one ${consumer} accepts; written as ${c.tactic}, the tactic it was split from (ATT&CK v18)`,
          },
        ]
      : []
  })

/** What the format `target/format` changed or the consumer will refuse, for one rule. */
export function formatFindings(target: string, format: string, vars: FormatVars): FormatFinding[] {
  const tactics = vars.rule.attack.tactics
  switch (`${target}/${format}`) {
    case 'kql/sentinel':
    case 'kql/arm':
      return [
        ...mapped(target, format, 'Sentinel', tactics, sentinelTactic),
        ...(vars.query.length > SENTINEL_QUERY_LIMIT
          ? [
              {
                code: 'format/query-too-long' as const,
                message: `kql format '${format}': the query has ${vars.query.length} characters; Sentinel analytics rules take at most ${SENTINEL_QUERY_LIMIT}`,
              },
            ]
          : []),
      ]
    case 'kql/defender':
      return mapped(target, format, 'Defender XDR (alert category)', tactics, sentinelTactic)
    case 'eql/elastic':
      return mapped(target, format, "Elastic's detection rules", tactics, (t) => {
        const e = elasticTactic(t)
        return { ...e, tactic: `${e.name} (${e.id})` }
      })
    default:
      return []
  }
}
