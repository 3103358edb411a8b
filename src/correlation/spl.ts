/**
 * SPL correlations: the referenced rules' own SPL (from the spl backend), each tagged with its
 * position, then sliding windows per group with `streamstats` — never `bin _time` + `stats`, whose
 * fixed buckets split a burst that straddles a bucket edge (docs/semantics.md, "Windows").
 *
 * Shape (one member: its search is the head; several: `| multisearch [search …] [search …]`, which
 * "runs multiple streaming searches at the same time" and needs two or more subsearches,
 * https://docs.splunk.com/Documentation/Splunk/latest/SearchReference/Multisearch):
 *
 *     | multisearch [search <rule 0> | eval CorrelationMember=0, CorrelationGroup0='Computer', …] […]
 *     | where mvcount(CorrelationGroup0)==1 AND CorrelationGroup0!=""
 *     | sort 0 _time, -CorrelationMember
 *     | streamstats … by CorrelationGroup0
 *     | where …
 *     | stats count by CorrelationGroup0 | rename CorrelationGroup0 AS "Computer" | table "Computer"
 *
 * streamstats (https://docs.splunk.com/Documentation/Splunk/latest/SearchReference/Streamstats)
 * computes, for each event as it is seen, statistics over the events processed up to it (the
 * current one included by default); `window=N` with `global=false` keeps a separate window of the
 * last N events per `by` group; `time_window` "requires that the events are sorted" by time, hence
 * `sort 0 _time` (0: no limit on the number of results). The page does not say whether an event
 * exactly `time_window` before the current one is in the window, so the queries below do not
 * depend on it where they can:
 *
 * - event_count: count windows (`window=N global=false`, exact by definition) hold the last N
 *   events of the group; N of them within the timespan ⇔ the earliest is ≥ _time − span. Over
 *   several rules the head is one search, `(rule 1) OR (rule 2)`, so an event counts once.
 * - temporal, temporal_ordered: `time_window` of timespan + 1 s (which covers [t − span, t] under
 *   either reading) gathers the latest time of each rule, or the latest start of a partial chain,
 *   and the timespan is compared explicitly in `eval`.
 * - value_count: `dc()` over `time_window=<timespan>`; this one relies on the window holding both
 *   ends ([t − span, t]), our reading of "the events that occurred in the last <span>" (listed as
 *   an open reading in docs/targets/spl.md and docs/semantics.md).
 *
 * Backward windows (ending at each event) find a window exactly when the reference's forward
 * windows (starting at each occurrence) do, for conditions that only grow with the window (`gt`,
 * `gte`): the window [a, a + span] is inside the backward window at its last event and vice
 * versa. Upper bounds (`lt`, `lte`, `eq`, `neq`) are refused, and so are sums, averages and shares
 * (a sum grows with the window only for non-negative values; averages and shares do not grow).
 */
import { loadEnv, resolveLogSource, splunkField } from '../backends/spl-env.js'
import type { TargetOptions } from '../backends/types.js'
import { memberField } from '../evaluate/correlate.js'
import type { Threshold } from './model.js'
import { compileMembers, spanText as span } from './members.js'
import { refuse, type CorrelationTarget } from './targets.js'
import { first, itemAt, must } from '../guards.js'

/** The least count that meets every criterion, when all are lower bounds; undefined otherwise. */
function lowerBound(condition: readonly Threshold[]): number | undefined {
  let least = 0
  for (const t of condition) {
    if (t.op === 'gte') least = Math.max(least, Math.ceil(t.value))
    else if (t.op === 'gt') least = Math.max(least, Math.floor(t.value) + 1)
    else return undefined
  }
  return least
}

/** Whether `text` has one of `chars` outside double-quoted strings (or an unterminated string). */
function hasOutsideStrings(text: string, chars: string): boolean {
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = itemAt(text, i)
    if (inString) {
      if (c === '\\') i++
      else if (c === '"') inString = false
    } else if (c === '"') inString = true
    else if (chars.includes(c)) return true
  }
  return inString
}

/**
 * A member with `[` or `]` outside strings could not sit inside `[search …]` unchanged. Backticks
 * are the log-source macros (`sysmon`): Splunk expands them inside a subsearch as anywhere else.
 */
const bracketSafe = (text: string) => !hasOutsideStrings(text, '[]')

/** An eval field reference: `'name'` (single quotes name a field in eval expressions). */
const fieldRef = (name: string) => `'${name}'`
const quoted = (name: string) => `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`

export const target: CorrelationTarget = {
  id: 'spl',
  async compile(rc, options?: TargetOptions) {
    const c = rc.correlation
    if (rc.members.some((m) => m.kind === 'correlation'))
      return refuse(rc, 'spl', 'target/unsupported-correlation-chain', 'a correlation of correlations is not compiled')
    if (c.type === 'value_sum' || c.type === 'value_avg' || c.type === 'value_percentile')
      return refuse(
        rc,
        'spl',
        'target/unsupported-correlation',
        `${c.type} is not compiled: streamstats windows end at each event, and a ${c.type === 'value_sum' ? 'sum (of values that may be negative)' : c.type === 'value_avg' ? 'mean' : 'share'} does not grow with its window, so a window that ends at an event does not stand for the windows that start at one`,
      )
    // Every member is a rule (a correlation of correlations is refused above).
    const members = rc.members
    const n = members.length
    const condition =
      c.type === 'temporal' && c.condition.length === 0 ? [{ op: 'gte' as const, value: n }] : c.condition
    const least = c.type === 'temporal_ordered' ? n : lowerBound(condition)
    if (least === undefined)
      return refuse(
        rc,
        'spl',
        'target/unsupported-correlation',
        `${c.type} with an upper bound (lt, lte, eq, neq) is not compiled: streamstats windows end at each event, and a bound that a smaller window meets does not carry over to the windows that start at one`,
      )
    // max_stream_window (limits.conf, 10,000 by default) caps a count window.
    if (c.type === 'event_count' && least > 10_000)
      return refuse(
        rc,
        'spl',
        'target/unsupported-correlation',
        `event_count of ${least} is over streamstats' default max_stream_window of 10,000 events`,
      )
    const loaded = loadEnv(options?.pipeline)
    if (!loaded.env) return { diagnostics: loaded.diagnostics }
    const env = loaded.env
    const compiled = await compileMembers(rc, 'spl', options)
    if ('refused' in compiled) return compiled.refused
    const heads: string[] = []
    const searches: { query: string; assigns: string[] }[] = []
    for (const [i, { rule, query }] of compiled.members.entries()) {
      const ls = resolveLogSource(env, rule.logsource)
      if (!ls || !bracketSafe(query) || query.startsWith('|'))
        return refuse(
          rc,
          'spl',
          'target/unsupported-correlation-rule',
          `referenced rule ${rule.id ?? rule.title} does not compile to a search that fits in a subsearch`,
        )
      // A rule searched in another record too (Security 4688 beside Sysmon) names a field there by
      // that record's name: a group-by or value field it renames would be read from one record only.
      const valueField = c.type === 'value_count' ? [must(c.field, 'value types have a condition field')] : []
      const fieldsUsed = [...c.groupBy, ...valueField].map((g) => memberField(c, g, itemAt(rc.members, i)))
      const renamed = fieldsUsed.find((f) => ls.also.some((a) => splunkField(env, a, f) !== splunkField(env, ls, f)))
      if (renamed !== undefined)
        return refuse(
          rc,
          'spl',
          'target/unsupported-field',
          `the field ${renamed} of rule ${rule.id ?? rule.title} has another name in the other records its log source is searched in (${ls.also.map((a) => a.macro ?? a.name).join(', ')})`,
        )
      const assigns = [`CorrelationMember=${i}`]
      for (const [j, g] of c.groupBy.entries())
        assigns.push(`CorrelationGroup${j}=${fieldRef(splunkField(env, ls, memberField(c, g, itemAt(rc.members, i))))}`)
      if (c.type === 'value_count')
        assigns.push(
          `CorrelationValue=${fieldRef(splunkField(env, ls, memberField(c, must(c.field, 'value types have a condition field'), itemAt(rc.members, i))))}`,
        )
      if ([...assigns].some((a) => /'[^']*'[^']*'/.test(a)))
        return refuse(rc, 'spl', 'target/unsupported-field', 'a field name holding a single quote is not compiled')
      heads.push(`${query} | eval ${assigns.join(', ')}`)
      searches.push({ query, assigns: assigns.slice(1) })
    }
    // event_count over several rules counts an event once, however many rules select it: one search
    // `(rule 1) OR (rule 2)` gives each event once, where multisearch would give it once per rule.
    // That needs each rule to be a search alone (no `| where`/`| regex`) and one group field name.
    let head = n === 1 ? first(heads) : `| multisearch ${heads.map((h) => `[search ${h}]`).join(' ')}`
    if (c.type === 'event_count' && n > 1) {
      const piped = compiled.members.find((m) => hasOutsideStrings(m.query, '|'))
      if (piped)
        return refuse(
          rc,
          'spl',
          'target/unsupported-correlation',
          `event_count over several rules needs each rule as one search, OR-ed so that an event two rules select counts once; rule ${piped.rule.id ?? piped.rule.title} pipes into where or regex`,
        )
      if (new Set(searches.map((x) => x.assigns.join(', '))).size > 1)
        return refuse(
          rc,
          'spl',
          'target/unsupported-field',
          'event_count over several rules whose group-by fields have different Splunk names is not compiled',
        )
      head = `${searches.map((x) => `(${x.query})`).join(' OR ')} | eval ${['CorrelationMember=0', ...first(searches).assigns].join(', ')}`
    }
    const spanS = c.timespan / 1000
    if (!Number.isInteger(spanS))
      return refuse(rc, 'spl', 'target/unsupported-correlation-window', 'a timespan below the second is not compiled')
    const groups = c.groupBy.map((_, j) => `CorrelationGroup${j}`)
    const by = groups.length ? ` by ${groups.join(', ')}` : ''
    const lines: string[] = [
      head,
      // A group-by value that is absent, empty or several values puts the event in no group.
      ...groups.map((g) => `| where mvcount(${g})==1 AND ${g}!=""`),
      '| sort 0 _time, -CorrelationMember',
    ]
    // Wider than the timespan: the window holds [t − span, t] whether its far end is open or closed.
    const wide = span(spanS + 1)
    // _time is seconds in floating point: half a millisecond of slack keeps "exactly the timespan
    // later" in despite rounding, and lets nothing a whole millisecond later in (event times are
    // whole milliseconds: docs/semantics.md, "Event time").
    const reach = spanS + 0.0005
    switch (c.type) {
      case 'event_count':
        lines.push(
          `| streamstats window=${least} global=false count AS CorrelationCount min(_time) AS CorrelationStart${by}`,
          `| where CorrelationCount>=${least} AND CorrelationStart+${reach}>=_time`,
        )
        break
      case 'value_count':
        lines.push(
          `| eval CorrelationValue=if(mvcount(CorrelationValue)==1 AND CorrelationValue!="", CorrelationValue, null())`,
          `| streamstats time_window=${span(spanS)} dc(CorrelationValue) AS CorrelationCount${by}`,
          `| where CorrelationCount>=${least}`,
        )
        break
      case 'temporal':
        lines.push(
          `| eval ${members.map((_, k) => `CorrelationSeen${k}=if(CorrelationMember==${k}, _time, null())`).join(', ')}`,
          `| streamstats time_window=${wide} ${members.map((_, k) => `max(CorrelationSeen${k}) AS CorrelationLast${k}`).join(' ')}${by}`,
          `| eval CorrelationCount=${members.map((_, k) => `if(CorrelationLast${k}+${reach}>=_time, 1, 0)`).join('+')}`,
          `| where CorrelationCount>=${least}`,
        )
        break
      case 'temporal_ordered':
        // CorrelationStart<k>: the latest start of a chain of rules 0..k ending at this event. Equal
        // times sort the later rule first, so a step never follows an event of the same instant.
        lines.push(`| eval CorrelationStart0=if(CorrelationMember==0, _time, null())`)
        for (let k = 1; k < n; k++)
          lines.push(
            `| streamstats time_window=${wide} max(CorrelationStart${k - 1}) AS CorrelationBefore${k}${by}`,
            `| eval CorrelationStart${k}=if(CorrelationMember==${k} AND CorrelationBefore${k}+${reach}>=_time, CorrelationBefore${k}, null())`,
          )
        lines.push(`| where isnotnull(CorrelationStart${n - 1})`)
        break
    }
    if (groups.length)
      lines.push(
        `| stats count by ${groups.join(', ')}`,
        ...c.groupBy.map((g, j) => `| rename CorrelationGroup${j} AS ${quoted(g)}`),
        `| table ${c.groupBy.map(quoted).join(', ')}`,
      )
    else lines.push('| stats count', '| where count>0')
    return { query: lines.join('\n'), diagnostics: [] }
  },
  async verify(query, events, options) {
    const { verifySplCorrelation } = await import('./spl-verify.js')
    return verifySplCorrelation(query, events, options)
  },
}
