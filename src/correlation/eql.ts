/**
 * EQL correlations: refused, each type with the reason EQL cannot express it exactly.
 *
 * - Counts, distinct counts, sums, averages, shares: EQL has no aggregation; its pipes are `head`
 *   and `tail` (https://www.elastic.co/guide/en/elasticsearch/reference/current/eql-pipe-ref.html).
 * - temporal (any order): `sequence` is ordered; `sample by …` takes its events in any order but
 *   has no `with maxspan` (https://www.elastic.co/guide/en/elasticsearch/reference/current/eql-syntax.html,
 *   "Samples"), so it cannot hold them to a timespan.
 * - temporal_ordered: `sequence by … with maxspan` orders events that share a timestamp by the
 *   tiebreaker field and then by index order (`_shard_doc`): the rules API's `tiebreaker_field`
 *   "Sets a secondary field for sorting events (in ascending, lexicographic order) if they have the
 *   same timestamp" (elastic/security-docs, rules-api-create; `_shard_doc`: elastic/elasticsearch
 *   #66093). So two events of the same instant, stored in rule order, complete a sequence, where
 *   rulesmith requires each step strictly later (docs/semantics.md). Compiling it would match more
 *   than the rule; it is refused. Re-checked (docs/semantics.md, "EQL and temporal_ordered"): the
 *   sequence state machine (one pending sequence per stage and `by` value, the newer overriding)
 *   keeps the latest start, which is what a chain within the timespan needs, so it is not the
 *   problem; the same-instant order is a property of the data that no query text or rule subset
 *   (disjoint rules included) excludes, and maxspan's far edge is not documented either.
 */
import { refuse, type CorrelationTarget } from './targets.js'

const REASONS = {
  event_count: 'EQL has no aggregation (its pipes are head and tail), so it cannot count events per group in a window',
  value_count: 'EQL has no aggregation (its pipes are head and tail), so it cannot count distinct values in a window',
  value_sum: 'EQL has no aggregation (its pipes are head and tail), so it cannot sum a field over a window',
  value_avg: 'EQL has no aggregation (its pipes are head and tail), so it cannot average a field over a window',
  value_percentile: 'EQL has no aggregation (its pipes are head and tail), so it cannot compute shares over a window',
  temporal:
    'EQL sequences are ordered and samples take no time window (no maxspan), so events of several rules in any order within a timespan cannot be expressed',
  temporal_ordered:
    'EQL sequences order events that share a @timestamp by tiebreaker and index order (_shard_doc), so two events of the same instant would complete the sequence; rulesmith requires each step strictly later',
} as const

export const target: CorrelationTarget = {
  id: 'eql',
  async compile(rc) {
    if (rc.members.some((m) => m.kind === 'correlation'))
      return refuse(rc, 'eql', 'target/unsupported-correlation-chain', 'a correlation of correlations is not compiled')
    const code =
      rc.correlation.type === 'temporal_ordered'
        ? 'target/unsupported-correlation-window'
        : 'target/unsupported-correlation'
    return refuse(rc, 'eql', code, REASONS[rc.correlation.type])
  },
  async verify() {
    return {
      diagnostics: [
        { code: 'verify/unsupported', severity: 'error', message: 'eql: correlations are refused, nothing to verify' },
      ],
    }
  },
}
