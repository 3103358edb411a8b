/**
 * The reference semantics of Sigma correlations over time-stamped events (docs/semantics.md,
 * "Correlations"). Every target's compiled correlation is held to what this module answers.
 *
 * - An occurrence is an event selected by a referenced rule (filters folded in) as `evaluateRule`
 *   selects it — an event that states its origin (`_logsource`, or a Windows record's Channel and
 *   EventID: src/origin.ts) only from the rule's log source — at the time its log source's time
 *   field holds; a referenced correlation contributes one occurrence per window
 *   that fires, at the time of that window's last event.
 * - Occurrences are grouped by the group-by values (aliases resolved per rule), compared as text,
 *   case-sensitively; an occurrence missing a group-by value (absent, null, empty, not a scalar)
 *   belongs to no group.
 * - Windows slide: every occurrence `a` of a group opens the window of the occurrences `o` with
 *   a.t ≤ o.t ≤ a.t + timespan — both ends included. A group fires when one of its windows meets
 *   the condition; `match` reports the earliest such window.
 */
import { getField } from './evaluate.js'
import { evaluateRule } from './evaluate.js'
import { eventTime } from '../correlation/event-time.js'
import { meetsThresholds, type Correlation } from '../correlation/model.js'
import type { Referenced, ResolvedCorrelation } from '../correlation/resolve.js'
import type { JsonEvent } from '../rule/rule.js'
import { entryOf, first, itemAt, last, must, mustGet } from '../guards.js'

export interface CorrelationMatch {
  /** Group-by name (as the correlation writes it, aliases included) → value as text. */
  readonly group: Readonly<Record<string, string>>
  /** 0-based indexes of the events that made the match, ascending. */
  readonly events: readonly number[]
  /** Time of the window's first and last event (ms since the epoch). */
  readonly start: number
  readonly end: number
}

export interface TimelessEvent {
  /** 0-based index of an event a referenced rule selects but whose time cannot be read. */
  readonly index: number
  readonly message: string
}

export interface Correlated {
  readonly matches: readonly CorrelationMatch[]
  /** Events that a referenced rule selects but that have no readable time: reported, never guessed. */
  readonly timeless: readonly TimelessEvent[]
}

interface Occurrence {
  readonly t: number
  /** Position among the referenced rules (`correlation.rules` order). */
  readonly member: number
  /** Where the occurrence came from: event indexes (one for a rule, the window's for a correlation). */
  readonly events: readonly number[]
  /** The first event index, the tiebreak after time (input order). */
  readonly order: number
  readonly fields: (name: string) => unknown
}

/** A scalar group or aggregate value as text: numbers and booleans through their JSON text. */
export function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v === '' ? undefined : v
  if (typeof v === 'number' && Number.isFinite(v)) return JSON.stringify(v)
  if (typeof v === 'boolean') return JSON.stringify(v)
  return undefined
}

/** A number as `value_sum`/`value_avg` read it: a JSON number, or text holding a decimal number. */
export function numericValue(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v
  if (typeof v === 'string' && /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(v)) return Number(v)
  return undefined
}

const memberName = (m: Referenced) => (m.kind === 'rule' ? m.rule.name : m.correlation.name)

/** The field a group-by (or the aggregated field) names in one member's occurrences. */
export function memberField(c: Correlation, name: string, m: Referenced): string {
  const alias = c.aliases[name]
  const n = memberName(m)
  return alias && n !== undefined && alias[n] !== undefined ? entryOf(alias, n) : name
}

/**
 * Evaluate one correlation. `all` holds the resolved correlations it may refer to (chains); a
 * reference to one not in it is a programming error (resolve.ts drops such correlations).
 */
export function correlate(
  rc: ResolvedCorrelation,
  events: readonly JsonEvent[],
  all: readonly ResolvedCorrelation[] = [rc],
): Correlated {
  const timeless = new Map<number, string>()
  const byCorrelation = new Map<Correlation, ResolvedCorrelation>(all.map((r) => [r.correlation, r]))
  const matches = run(rc, events, timeless, byCorrelation)
  return {
    matches,
    timeless: [...timeless.entries()].sort((a, b) => a[0] - b[0]).map(([index, message]) => ({ index, message })),
  }
}

function run(
  rc: ResolvedCorrelation,
  events: readonly JsonEvent[],
  timeless: Map<number, string>,
  byCorrelation: ReadonlyMap<Correlation, ResolvedCorrelation>,
): CorrelationMatch[] {
  const c = rc.correlation
  const occurrences: Occurrence[] = []
  rc.members.forEach((m, member) => {
    if (m.kind === 'rule') {
      events.forEach((e, i) => {
        // As for a rule alone: an event that states its origin is selected only from the rule's log source.
        if (!evaluateRule(m.rule, e)) return
        const t = eventTime(e, m.rule.logsource)
        if (!('ms' in t)) {
          timeless.set(i, `selected by ${m.rule.id ?? m.rule.title} but its time is unreadable (${t.reason})`)
          return
        }
        occurrences.push({ t: t.ms, member, events: [i], order: i, fields: (f) => getField(e, f) })
      })
    } else {
      const resolved = byCorrelation.get(m.correlation)
      if (!resolved) throw new Error(`correlation '${m.correlation.title}' was not resolved`)
      for (const inner of run(resolved, events, timeless, byCorrelation)) {
        occurrences.push({
          t: inner.end,
          member,
          events: inner.events,
          order: inner.events[0] ?? 0,
          fields: (f) => inner.group[f],
        })
      }
    }
  })
  // Group, then slide.
  const groups = new Map<string, { values: Record<string, string>; items: Occurrence[] }>()
  for (const o of occurrences) {
    const values: Record<string, string> = {}
    let complete = true
    for (const g of c.groupBy) {
      const v = scalarText(o.fields(memberField(c, g, itemAt(rc.members, o.member))))
      if (v === undefined) {
        complete = false
        break
      }
      values[g] = v
    }
    if (!complete) continue
    const key = JSON.stringify(c.groupBy.map((g) => values[g]))
    const group = groups.get(key) ?? { values, items: [] }
    group.items.push(o)
    groups.set(key, group)
  }
  const out: CorrelationMatch[] = []
  for (const key of [...groups.keys()].sort()) {
    const { values, items } = mustGet(groups, key)
    items.sort((a, b) => a.t - b.t || a.order - b.order || a.member - b.member)
    const hit = firstFiringWindow(rc, items)
    if (hit) out.push({ group: values, ...hit })
  }
  // Deterministic: by the time the group fired, then by group.
  return out.sort(
    (a, b) => a.end - b.end || a.start - b.start || (JSON.stringify(a.group) < JSON.stringify(b.group) ? -1 : 1),
  )
}

function firstFiringWindow(
  rc: ResolvedCorrelation,
  items: readonly Occurrence[],
): { events: number[]; start: number; end: number } | undefined {
  const c = rc.correlation
  const n = rc.members.length
  let right = 0
  for (let left = 0; left < items.length; left++) {
    const a = itemAt(items, left)
    // Anchors that share a time share a window: every occurrence at that time is in it.
    if (left > 0 && itemAt(items, left - 1).t === a.t) continue
    while (right < items.length && itemAt(items, right).t <= a.t + c.timespan) right++
    const window = items.slice(left, right)
    const chosen = windowMeets(c, n, rc.members, window)
    if (chosen) {
      const evs = [...new Set(chosen.flatMap((o) => o.events))].sort((x, y) => x - y)
      return { events: evs, start: first(chosen).t, end: last(chosen).t }
    }
  }
  return undefined
}

/** The occurrences that make the window meet the condition, or undefined when it does not. */
function windowMeets(
  c: Correlation,
  n: number,
  members: readonly Referenced[],
  window: readonly Occurrence[],
): readonly Occurrence[] | undefined {
  // One event selected by two referenced rules is one event to count, sum or average.
  const distinctEvents = () => {
    const seen = new Set<string>()
    return window.filter((o) => {
      const k = o.events.join(',')
      return seen.has(k) ? false : (seen.add(k), true)
    })
  }
  const valuesOf = (os: readonly Occurrence[]) =>
    os.map((o) =>
      o.fields(
        memberField(c, must(c.field, 'value_count and the sums have a condition field'), itemAt(members, o.member)),
      ),
    )
  switch (c.type) {
    case 'event_count':
      return meetsThresholds(distinctEvents().length, c.condition) ? window : undefined
    case 'value_count': {
      const values = new Set(
        valuesOf(distinctEvents())
          .map(scalarText)
          .filter((v) => v !== undefined),
      )
      return meetsThresholds(values.size, c.condition) ? window : undefined
    }
    case 'value_sum':
    case 'value_avg': {
      const nums = valuesOf(distinctEvents())
        .map(numericValue)
        .filter((v): v is number => v !== undefined)
      if (nums.length === 0) return undefined
      const sum = nums.reduce((x, y) => x + y, 0)
      return meetsThresholds(c.type === 'value_sum' ? sum : sum / nums.length, c.condition) ? window : undefined
    }
    case 'value_percentile': {
      const values = valuesOf(distinctEvents())
        .map(scalarText)
        .filter((v): v is string => v !== undefined)
      const counts = new Map<string, number>()
      for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1)
      for (const k of counts.values()) if (meetsThresholds((100 * k) / values.length, c.condition)) return window
      return undefined
    }
    case 'temporal': {
      const seen = new Set(window.map((o) => o.member))
      const condition = c.condition.length ? c.condition : [{ op: 'gte' as const, value: n }]
      return meetsThresholds(seen.size, condition) ? window : undefined
    }
    case 'temporal_ordered': {
      // Each next rule's occurrence strictly later than the previous one (equal times are not ordered).
      const chain: Occurrence[] = []
      for (const o of window) {
        if (o.member !== chain.length) continue
        if (chain.length && o.t <= last(chain).t) continue
        chain.push(o)
        if (chain.length === n) return chain
      }
      return undefined
    }
  }
}
