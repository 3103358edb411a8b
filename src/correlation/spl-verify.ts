/**
 * The SPL correlation verifier: runs an SPL pipeline over the events as result rows, command by
 * command, with the semantics Splunk's Search Reference gives each command. It reads only the query
 * text and the events (each placed with the SPL rule verifier's model, src/verify/spl-events.ts),
 * and imports nothing from the backend. The per-event commands (the head search, `search`,
 * `where`, `regex`) and eval expressions are the rule verifier's (grammars/spl.ts, src/verify/spl.ts).
 *
 * The commands it runs, and what it takes from each page ([our reading] where a page is silent):
 * - `| multisearch [search …] […]`: "runs multiple streaming searches at the same time"; at least
 *   two subsearches, each with streaming commands only; the results are the union of the
 *   subsearches' results (https://docs.splunk.com/Documentation/Splunk/latest/SearchReference/Multisearch).
 * - `eval f=expr, g=expr`: assignments left to right; a null result removes the field
 *   (https://docs.splunk.com/Documentation/Splunk/latest/SearchReference/Eval).
 * - `sort 0 f, -g`: all results (0: no limit), ascending, `-` descending; numbers compare as
 *   numbers (https://docs.splunk.com/Documentation/Splunk/latest/SearchReference/Sort). Ties keep
 *   their order [our reading]; a missing sort field is refused.
 * - `streamstats [window=N] [global=b] [time_window=span] [current=b] fn(f) AS name … [by …]`
 *   (https://docs.splunk.com/Documentation/Splunk/latest/SearchReference/Streamstats): for each
 *   result as it is seen, statistics over the results processed up to it, the current one
 *   included unless current=false; with `by`, per group. `window=N`: the last N results, one
 *   window per group when global=false, else one window across groups with statistics per group.
 *   `time_window`: the results whose _time is within the span of the current one's; the page asks
 *   for results sorted by time (unsorted input is refused here) and does not say whether a result
 *   exactly the span before is in: [our reading] it is (a closed window, [t − span, t]).
 *   Functions: count, dc (distinct values, each value of a multivalue counted), min and max of
 *   numbers (non-numbers refused). A result missing a `by` field is refused [not modelled].
 * - `stats count [by f, g]`: one result per distinct by-values; without `by`, one result, count=0
 *   on no input (https://docs.splunk.com/Documentation/Splunk/latest/SearchReference/Stats); a
 *   result missing a by field is refused [not modelled].
 * - `rename f AS "g"`, `table "f", "g"`: renames a field; keeps only the listed fields.
 * The groups that fire are the rows left, read through `table` (no table: one group, no fields).
 */
import { parseSpl, type Command, type EvalExpr } from '../../grammars/spl.js'
import type { JsonEvent } from '../rule/rule.js'
import type { TargetOptions } from '../target-ids.js'
import { recordTime } from '../verify/event-time.js'
import { evalExpr, runCommand, Unsupported, type Value } from '../verify/spl.js'
import { splModel, splRecord } from '../verify/spl-events.js'
import { expandMacros } from '../verify/spl.js'
import { RegexBudgetError } from '../bounded-regex.js'
import type { CorrelationVerified, FiringGroup } from './targets.js'
import { entryOf, first, isOneOf, itemAt, must, mustGet } from '../guards.js'

/** A result row: field → values (absent when it has none), with its time in milliseconds. */
interface Row {
  readonly fields: Map<string, readonly string[]>
  readonly ms: number
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/**
 * Top-level pieces of `text` split on `sep`, outside double-quoted strings (backslash escapes),
 * single-quoted field names, ```comments``` and brackets.
 */
function splitTop(text: string, sep: string): string[] {
  const out: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const c = itemAt(text, i)
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++
      if (i >= text.length) throw new Unsupported('an unterminated string')
    } else if (c === "'") {
      i = text.indexOf("'", i + 1)
      if (i < 0) throw new Unsupported('an unterminated field name')
    } else if (text.startsWith('```', i)) {
      const end = text.indexOf('```', i + 3)
      if (end < 0) throw new Unsupported('an unterminated comment')
      i = end + 2
    } else if (c === '[' || c === '(') depth++
    else if (c === ']' || c === ')') {
      if (--depth < 0) throw new Unsupported(`an unbalanced ${c}`)
    } else if (c === sep && depth === 0) {
      out.push(text.slice(start, i).trim())
      start = i + 1
    }
  }
  if (depth !== 0) throw new Unsupported('an unbalanced bracket')
  out.push(text.slice(start).trim())
  return out
}

/** The bracketed groups of `[…] […]`, each without its brackets. */
function bracketGroups(text: string): string[] {
  const out: string[] = []
  let rest = text.trim()
  while (rest.length) {
    if (rest[0] !== '[') throw new Unsupported(`text between subsearches: ${JSON.stringify(rest.slice(0, 30))}`)
    // Up to the bracket that closes this one, skipping strings and quoted field names.
    let depth = 0
    let i = 0
    for (; i < rest.length; i++) {
      const c = itemAt(rest, i)
      if (c === '"') {
        for (i++; i < rest.length && rest[i] !== '"'; i++) if (rest[i] === '\\') i++
      } else if (c === "'") {
        i = rest.indexOf("'", i + 1)
        if (i < 0) throw new Unsupported('an unterminated field name')
      } else if (c === '[') depth++
      else if (c === ']' && --depth === 0) break
    }
    if (i >= rest.length) throw new Unsupported('an unclosed subsearch')
    out.push(rest.slice(1, i).trim())
    rest = rest.slice(i + 1).trim()
  }
  return out
}

/** One command of the row pipeline. */
type Step =
  | { readonly kind: 'filter'; readonly command: Command }
  | { readonly kind: 'eval'; readonly assigns: readonly (readonly [string, EvalExpr])[] }
  | { readonly kind: 'sort'; readonly keys: readonly { readonly field: string; readonly desc: boolean }[] }
  | {
      readonly kind: 'streamstats'
      readonly window?: number
      readonly timeWindowMs?: number
      readonly global: boolean
      readonly current: boolean
      readonly aggs: readonly Agg[]
      readonly by: readonly string[]
    }
  | { readonly kind: 'stats'; readonly as: string; readonly by: readonly string[] }
  | { readonly kind: 'rename'; readonly from: string; readonly to: string }
  | { readonly kind: 'table'; readonly fields: readonly string[] }

interface Agg {
  readonly fn: (typeof AGG_FNS)[number]
  readonly field?: string
  readonly as: string
}
const AGG_FNS = ['count', 'dc', 'min', 'max'] as const
function aggFn(name: string | undefined): Agg['fn'] {
  if (!isOneOf(AGG_FNS, name)) throw new Unsupported(`the streamstats function ${String(name)}`)
  return name
}

const unquote = (s: string): string =>
  s.startsWith('"') && s.endsWith('"') && s.length >= 2 ? s.slice(1, -1).replace(/\\(.)/g, '$1') : s

const FIELD = /^[A-Za-z_][A-Za-z0-9_.]*$/

function parseWhereExpr(text: string): EvalExpr {
  const parsed = parseSpl(`| where ${text}`)
  const commands = parsed.query?.commands
  const c = commands?.[1]
  if (!commands || !c || c.kind !== 'where' || commands.length !== 2)
    throw new Unsupported(
      `the expression ${JSON.stringify(text)} (${parsed.errors[0]?.message ?? 'not one expression'})`,
    )
  return c.expr
}

function parseStep(segment: string, streamingOnly: boolean): Step {
  const name = /^(\S+)/.exec(segment)?.[1] ?? ''
  const body = segment.slice(name.length).trim()
  if (name === 'search' || name === 'where' || name === 'regex') {
    const parsed = parseSpl(`| ${segment}`)
    const commands = parsed.query?.commands
    const c = commands?.[1]
    if (!commands || !c || commands.length !== 2)
      throw new Unsupported(`the command ${JSON.stringify(segment.slice(0, 60))}: ${parsed.errors[0]?.message ?? ''}`)
    return { kind: 'filter', command: c }
  }
  if (name === 'eval')
    return {
      kind: 'eval',
      assigns: splitTop(body, ',').map((a) => {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=(?!=)([^]*)$/.exec(a)
        if (!m) throw new Unsupported(`the eval assignment ${JSON.stringify(a)}`)
        return [must(m[1], 'the group matched'), parseWhereExpr(must(m[2], 'the group matched'))] as const
      }),
    }
  if (streamingOnly)
    throw new Unsupported(`the command ${name} inside a subsearch (multisearch takes streaming commands only)`)
  if (name === 'sort') {
    const m = /^0\s+([^]+)$/.exec(body)
    if (!m) throw new Unsupported(`sort without a count of 0: ${JSON.stringify(segment)}`)
    return {
      kind: 'sort',
      keys: splitTop(must(m[1], 'the group matched'), ',').map((k) => {
        const r = /^([-+]?)([A-Za-z_][A-Za-z0-9_]*)$/.exec(k)
        if (!r) throw new Unsupported(`the sort key ${JSON.stringify(k)}`)
        return { field: itemAt(r, 2), desc: r[1] === '-' }
      }),
    }
  }
  if (name === 'streamstats') {
    let rest = body
    const opts: Record<string, string> = {}
    for (let m; (m = /^(window|global|time_window|current)=(\S+)\s*/.exec(rest)); rest = rest.slice(m[0].length))
      opts[must(m[1], 'the group matched')] = must(m[2], 'the group matched')
    const [aggText, byText] = rest.split(/\s+by\s+/)
    const aggs: Agg[] = []
    const aggRe = /^\s*(?:(count)|(dc|min|max)\(([A-Za-z_][A-Za-z0-9_.]*)\))\s+AS\s+([A-Za-z_][A-Za-z0-9_]*)/
    let a = aggText ?? ''
    for (let m; (m = aggRe.exec(a)); a = a.slice(m[0].length))
      aggs.push({
        fn: aggFn(m[1] ?? m[2]),
        ...(m[3] ? { field: m[3] } : {}),
        as: must(m[4], 'the group matched'),
      })
    if (a.trim() || aggs.length === 0) throw new Unsupported(`the streamstats functions ${JSON.stringify(aggText)}`)
    const bool = (v: string | undefined, d: boolean) => {
      if (v === undefined) return d
      if (v !== 'true' && v !== 'false') throw new Unsupported(`streamstats option ${v}`)
      return v === 'true'
    }
    let timeWindowMs: number | undefined
    if (opts['time_window'] !== undefined) {
      const t = /^(\d+)([smhd])$/.exec(opts['time_window'])
      if (!t) throw new Unsupported(`time_window=${opts['time_window']}`)
      timeWindowMs = Number(t[1]) * entryOf(UNITS, itemAt(t, 2))
    }
    if (opts['window'] !== undefined && !/^[1-9]\d*$/.test(opts['window']))
      throw new Unsupported(`window=${opts['window']}`)
    return {
      kind: 'streamstats',
      ...(opts['window'] !== undefined ? { window: Number(opts['window']) } : {}),
      ...(timeWindowMs !== undefined ? { timeWindowMs } : {}),
      global: bool(opts['global'], true),
      current: bool(opts['current'], true),
      aggs,
      by: byFields(byText),
    }
  }
  if (name === 'stats') {
    const m = /^count(?:\s+AS\s+([A-Za-z_][A-Za-z0-9_]*))?(?:\s+by\s+([^]+))?$/.exec(body)
    if (!m) throw new Unsupported(`stats ${JSON.stringify(body)}`)
    return { kind: 'stats', as: m[1] ?? 'count', by: byFields(m[2]) }
  }
  if (name === 'rename') {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s+AS\s+("(?:[^"\\]|\\.)*"|[A-Za-z_][A-Za-z0-9_]*)$/.exec(body)
    if (!m) throw new Unsupported(`rename ${JSON.stringify(body)}`)
    return { kind: 'rename', from: must(m[1], 'the group matched'), to: unquote(must(m[2], 'the group matched')) }
  }
  if (name === 'table') return { kind: 'table', fields: splitTop(body, ',').map(unquote) }
  throw new Unsupported(`the command ${JSON.stringify(name)}`)
}

function byFields(text: string | undefined): string[] {
  if (text === undefined) return []
  return splitTop(text, ',').map((f) => {
    if (!FIELD.test(f)) throw new Unsupported(`the by field ${JSON.stringify(f)}`)
    return f
  })
}

const numeric = (s: string): number | undefined =>
  /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s) ? Number(s) : undefined

/** The one value of a `by` field of a row, as a key part. */
function byKey(row: Row, by: readonly string[], command: string): string {
  return JSON.stringify(
    by.map((f) => {
      const v = row.fields.get(f)
      if (!v || v.length !== 1)
        throw new Unsupported(`${command} by ${f} over a result without exactly one value of it`)
      return v[0]
    }),
  )
}

function setValue(fields: Map<string, readonly string[]>, name: string, v: Value): void {
  if (v === null) fields.delete(name)
  else if (typeof v === 'boolean') throw new Unsupported(`eval ${name}= of a boolean`)
  else if (typeof v === 'number') fields.set(name, [String(v)])
  else if (typeof v === 'string') fields.set(name, [v])
  else fields.set(name, [...v])
}

function runStep(step: Step, rows: Row[]): Row[] {
  switch (step.kind) {
    case 'filter':
      return rows.filter((r) => runCommand(step.command, r.fields))
    case 'eval':
      for (const r of rows) for (const [name, e] of step.assigns) setValue(r.fields, name, evalExpr(e, r.fields))
      return rows
    case 'sort': {
      const keyed = rows.map((r, i) => ({
        r,
        i,
        keys: step.keys.map((k) => {
          const v = r.fields.get(k.field)
          if (!v || v.length !== 1)
            throw new Unsupported(`sort by ${k.field} over a result without exactly one value of it`)
          return numeric(first(v)) ?? first(v)
        }),
      }))
      keyed.sort((a, b) => {
        for (const [j, k] of step.keys.entries()) {
          const x = itemAt(a.keys, j)
          const y = itemAt(b.keys, j)
          if (typeof x !== typeof y) throw new Unsupported(`sort by ${k.field} over numbers and text`)
          if (x !== y) return (x < y ? -1 : 1) * (k.desc ? -1 : 1)
        }
        return a.i - b.i
      })
      return keyed.map((k) => k.r)
    }
    case 'streamstats':
      return streamstats(step, rows)
    case 'stats': {
      const groups = new Map<string, Row>()
      for (const r of rows) {
        const key = byKey(r, step.by, 'stats')
        const g = groups.get(key)
        if (g) g.fields.set(step.as, [String(Number(mustGet(g.fields, step.as)[0]) + 1)])
        else
          groups.set(key, {
            ms: r.ms,
            fields: new Map([...step.by.map((f) => [f, mustGet(r.fields, f)] as const), [step.as, ['1']]]),
          })
      }
      // Without `by`, stats answers one result even for no input (count=0).
      if (step.by.length === 0 && groups.size === 0) return [{ ms: 0, fields: new Map([[step.as, ['0']]]) }]
      return [...groups.values()]
    }
    case 'rename':
      for (const r of rows) {
        const v = r.fields.get(step.from)
        r.fields.delete(step.from)
        if (v) r.fields.set(step.to, v)
      }
      return rows
    case 'table':
      return rows.map((r) => ({
        ms: r.ms,
        fields: new Map(step.fields.flatMap((f) => (r.fields.has(f) ? [[f, mustGet(r.fields, f)]] : []))),
      }))
  }
}

function streamstats(step: Extract<Step, { kind: 'streamstats' }>, rows: Row[]): Row[] {
  if (step.timeWindowMs !== undefined)
    for (let i = 1; i < rows.length; i++)
      if (itemAt(rows, i).ms < itemAt(rows, i - 1).ms)
        throw new Unsupported('streamstats time_window over results that are not sorted by time')
  const seen: { row: Row; key: string }[] = []
  const results: Map<string, readonly string[]>[] = []
  for (const row of rows) {
    const key = step.by.length ? byKey(row, step.by, 'streamstats') : ''
    const upTo = step.current ? [...seen, { row, key }] : seen
    let window = upTo
    if (step.window !== undefined)
      window = step.global ? upTo.slice(-step.window) : upTo.filter((x) => x.key === key).slice(-step.window)
    const span = step.timeWindowMs
    if (span !== undefined) window = window.filter((x) => x.row.ms >= row.ms - span)
    const mine = window.filter((x) => x.key === key).map((x) => x.row)
    const out = new Map<string, readonly string[]>()
    for (const a of step.aggs) {
      if (a.fn === 'count') {
        out.set(a.as, [String(mine.length)])
        continue
      }
      const field = must(a.field, 'an aggregate other than count names its field')
      const values = mine.flatMap((r) => r.fields.get(field) ?? [])
      if (a.fn === 'dc') {
        out.set(a.as, [String(new Set(values).size)])
        continue
      }
      if (values.length === 0) continue
      const nums = values.map((v) => {
        const n = numeric(v)
        if (n === undefined) throw new Unsupported(`${a.fn}(${a.field}) over text`)
        return { v, n }
      })
      const best = nums.reduce((x, y) => ((a.fn === 'min' ? y.n < x.n : y.n > x.n) ? y : x))
      out.set(a.as, [best.v])
    }
    results.push(out)
    seen.push({ row, key })
  }
  // The statistics are added after every result is seen: the fields they write are not their own inputs.
  rows.forEach((r, i) => {
    for (const a of step.aggs) r.fields.delete(a.as)
    for (const [k, v] of itemAt(results, i)) r.fields.set(k, v)
  })
  return rows
}

export async function verifySplCorrelation(
  query: string,
  events: readonly JsonEvent[],
  options?: TargetOptions,
): Promise<CorrelationVerified> {
  const fail = (
    message: string,
    code: 'verify/parse' | 'verify/unsupported' = 'verify/parse',
  ): CorrelationVerified => ({
    diagnostics: [{ code, severity: 'error', message: `spl: ${message}`, target: 'spl' }],
  })
  const model = splModel(options?.pipeline)
  if (typeof model === 'string') return fail(model)
  try {
    // Search macros first, as Splunk expands them before it parses the search.
    query = expandMacros(query, model.macros)
    // Events as results: placed where their origin lands (none: no index holds them), with _time.
    const unrepresentable: number[] = []
    const base: Row[] = []
    events.forEach((event, index) => {
      const rec = splRecord(event, model)
      if (!rec) return
      const ms = recordTime(event)
      if (ms === undefined) {
        unrepresentable.push(index)
        return
      }
      base.push({ ms, fields: new Map([...rec, ['_time', [String(ms / 1000)]]]) })
    })
    const copy = () => base.map((r) => ({ ms: r.ms, fields: new Map(r.fields) }))
    const pieces = splitTop(query.trim(), '|')
    let rows: Row[]
    let rest: string[]
    if (pieces[0] === '') {
      const head = pieces[1] ?? ''
      const m = /^multisearch\s+([^]*)$/.exec(head)
      if (!m) throw new Unsupported(`the generating command ${JSON.stringify(head.slice(0, 40))}`)
      const subsearches = bracketGroups(must(m[1], 'the group matched'))
      if (subsearches.length < 2) throw new Unsupported('multisearch with fewer than two subsearches')
      rows = subsearches.flatMap((s) => {
        const parts = splitTop(s, '|')
        if (!/^search\s/.test(first(parts))) throw new Unsupported(`a subsearch that does not start with search`)
        return parts.reduce((acc, seg) => runStep(parseStep(seg, true), acc), copy())
      })
      rest = pieces.slice(2)
    } else {
      rows = runStep(parseStep(`search ${pieces[0]}`, true), copy())
      rest = pieces.slice(1)
    }
    let table: readonly string[] | undefined
    for (const seg of rest) {
      const step = parseStep(seg, false)
      rows = runStep(step, rows)
      table = step.kind === 'table' ? step.fields : table
    }
    const groups = new Map<string, FiringGroup>()
    for (const r of rows) {
      const group: Record<string, string> = {}
      for (const f of table ?? []) {
        const v = r.fields.get(f)
        if (v?.length === 1) group[f] = first(v)
      }
      groups.set(JSON.stringify(group), { group })
    }
    return {
      groups: [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, g]) => g),
      unrepresentable,
      diagnostics: [],
    }
  } catch (e) {
    if (e instanceof Unsupported) return fail(`the verifier cannot run ${e.message}`, 'verify/unsupported')
    if (e instanceof RegexBudgetError) return fail(e.message)
    throw e
  }
}
