/**
 * Correlation rules and global filters (Sigma v2.1 correlation and filter specifications), as
 * loaded and checked: what `src/evaluate/correlate.ts` evaluates and `src/correlation/<target>.ts`
 * compiles. Semantics are in docs/semantics.md ("Correlations", "Filters").
 */
import type { Node, Pos } from '../ast/nodes.js'
import type { LogSource } from '../rule/rule.js'
import { entryOf, must } from '../guards.js'

export const CORRELATION_TYPES = [
  'event_count',
  'value_count',
  'temporal',
  'temporal_ordered',
  'value_sum',
  'value_avg',
  'value_percentile',
] as const
export type CorrelationType = (typeof CORRELATION_TYPES)[number]

/** The types whose condition names a `field` (spec: "`field` in condition section"). */
export const FIELD_TYPES: readonly CorrelationType[] = ['value_count', 'value_sum', 'value_avg', 'value_percentile']

export const THRESHOLD_OPS = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'] as const
export type ThresholdOp = (typeof THRESHOLD_OPS)[number]

/** One criterion of a correlation condition; several are AND-ed (spec: "a range … 'AND'"). */
export interface Threshold {
  readonly op: ThresholdOp
  readonly value: number
}

/** A reference to a rule or correlation by `id` or `name`, where it is written. */
export interface Reference {
  readonly ref: string
  readonly at: Pos
}

export interface Correlation {
  readonly file: string
  readonly at: Pos
  readonly idAt?: Pos
  readonly id?: string
  readonly name?: string
  readonly title: string
  readonly level?: string
  readonly status?: string
  readonly description?: string
  readonly type: CorrelationType
  readonly rules: readonly Reference[]
  /** Field names or alias names; empty means one group for the whole stream. */
  readonly groupBy: readonly string[]
  /** Milliseconds. */
  readonly timespan: number
  /** As written (`5m`), for messages and formats. */
  readonly timespanText: string
  /** AND-ed; for `temporal`/`temporal_ordered` without a condition: all referenced rules (`gte: n`). */
  readonly condition: readonly Threshold[]
  /** The aggregated field of the `value_*` types. */
  readonly field?: string
  /** alias → referenced rule name → field in that rule's events. */
  readonly aliases: Readonly<Record<string, Readonly<Record<string, string>>>>
  /** Also emit the referenced rules on their own (spec `generate`, default false). */
  readonly generate: boolean
  /** Where the parts the cross-document checks talk about are written. */
  readonly where: CorrelationPositions
  readonly raw: Readonly<Record<string, unknown>>
}

export interface CorrelationPositions {
  readonly groupBy: readonly Pos[]
  readonly condition: Pos
  readonly field?: Pos
  /** alias → rule name → the key's position. */
  readonly aliases: Readonly<Record<string, Readonly<Record<string, Pos>>>>
}

export interface Filter {
  readonly file: string
  readonly at: Pos
  readonly idAt?: Pos
  readonly id?: string
  readonly name?: string
  readonly title: string
  readonly logsource: LogSource
  /** The rules it applies to; empty: every rule of its log source. */
  readonly rules: readonly Reference[]
  /** The filter's own condition: a rule it applies to selects an event only when this holds too. */
  readonly detection: Node
}

/** Unit → milliseconds, for `timespan` (spec: "number + letter (in lowercase)": s m h d). */
export const TIMESPAN_UNITS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** The longest timespan accepted: a year. Longer windows are not a correlation a SIEM can hold. */
export const MAX_TIMESPAN_MS = 366 * 86_400_000

export function parseTimespan(text: string): number | undefined {
  const m = /^([1-9][0-9]{0,9})([smhd])$/.exec(text)
  if (!m) return undefined
  const ms = Number(m[1]) * entryOf(TIMESPAN_UNITS, must(m[2], 'the group matched'))
  return ms <= MAX_TIMESPAN_MS ? ms : undefined
}

export function meetsThresholds(value: number, condition: readonly Threshold[]): boolean {
  return condition.every((t) => {
    switch (t.op) {
      case 'gt':
        return value > t.value
      case 'gte':
        return value >= t.value
      case 'lt':
        return value < t.value
      case 'lte':
        return value <= t.value
      case 'eq':
        return value === t.value
      case 'neq':
        return value !== t.value
    }
  })
}
