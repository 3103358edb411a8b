/**
 * The KQL correlation verifier: reads the text the kql correlation compiler emits — the referenced
 * rules' `Table | where …` under `union`, a `project`, then a self-join window or an ordered chain
 * and a `summarize` — with its own line grammar (each member's `where` through grammars/kql.ts and
 * the rule verifier's predicate semantics), and evaluates it on the events with KQL's documented
 * semantics:
 *   - `union` concatenates its legs' rows (https://learn.microsoft.com/kusto/query/union-operator);
 *   - `join kind=inner` keeps every pair of rows with equal keys, a right-side column that clashes
 *     gets the suffix 1 (https://learn.microsoft.com/kusto/query/join-operator);
 *   - `between (a .. b)` is inclusive (https://learn.microsoft.com/kusto/query/between-operator);
 *   - `distinct`, `summarize … by` group on equal values (strings compare exactly);
 *   - `make_set`/`make_set_if` hold each distinct value once; `count()` counts rows.
 * Each event becomes a row of the table its origin lands in, as the KQL rule verifier places it
 * (src/verify/kql-events.ts: string columns never null ("")); the time column holds the record's
 * time (src/verify/event-time.ts), the event id column its position, the device-name column its
 * Computer. It reads only the text and the events, and imports nothing from the backend.
 */
import { parseKql, type KQuery } from '../../grammars/kql.js'
import type { JsonEvent } from '../rule/rule.js'
import type { TargetOptions } from '../target-ids.js'
import { recordTime } from '../verify/event-time.js'
import { keepsRow } from '../verify/kql.js'
import { kqlModel, placeEvent } from '../verify/kql-events.js'
import type { CorrelationVerified, FiringGroup } from './targets.js'
import { entryOf, errorMessage, first, itemAt, must, mustGet } from '../guards.js'

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

class Unreadable extends Error {}

interface Member {
  readonly query: KQuery
  readonly index: number
}

interface Parsed {
  readonly members: readonly Member[]
  readonly guards: readonly string[]
  readonly time: string
  readonly host: string
  readonly id: string
  readonly groups: readonly string[]
  readonly value?: string
  readonly kind: 'count' | 'distinct' | 'members' | 'ordered'
  readonly spanMs: number
  readonly thresholds: readonly { op: string; value: number }[]
  readonly output: readonly { name: string; group: number }[]
}

function spanOf(text: string): number {
  const m = /^(\d+)([smhd])$/.exec(text)
  if (!m) throw new Unreadable(`timespan ${text} is not of the form <n>s|m|h|d`)
  return Number(m[1]) * entryOf(UNITS, must(m[2], 'the group matched'))
}

function expectLine(lines: string[], re: RegExp, what: string): RegExpExecArray {
  const line = lines.shift()
  const m = line === undefined ? null : re.exec(line)
  if (!m) throw new Unreadable(`expected ${what}, found ${JSON.stringify(line ?? '(end)')}`)
  return m
}

function parse(text: string): Parsed {
  const head = /^let Occurrences = union\n/.exec(text)
  if (!head) throw new Unreadable('expected "let Occurrences = union"')
  const members: Member[] = []
  const block = /\(([A-Za-z_][A-Za-z0-9_]*)\n\| where ([^\n]*)\n\| extend CorrelationMember = (\d+)\)(,\n|\n)/y
  block.lastIndex = head[0].length
  let m: RegExpExecArray | null
  let end = block.lastIndex
  while ((m = block.exec(text))) {
    const parsed = parseKql(`${m[1]}\n| where ${m[2]}`)
    if (!parsed.query) throw new Unreadable(`member ${m[3]}: ${parsed.errors[0]?.message ?? 'unreadable'}`)
    if (Number(m[3]) !== members.length) throw new Unreadable('members are not numbered 0, 1, 2 …')
    members.push({ query: parsed.query, index: Number(m[3]) })
    end = block.lastIndex
    if (m[4] === '\n') break
  }
  if (members.length === 0) throw new Unreadable('no member query under union')
  const lines = text.slice(end).split('\n')
  let guards: string[] = []
  if (lines[0]?.startsWith('| where isnotempty('))
    guards = itemAt(
      expectLine(
        lines,
        /^\| where (isnotempty\([A-Za-z_]\w*\)(?: and isnotempty\([A-Za-z_]\w*\))*)$/,
        'isnotempty guards',
      ),
      1,
    )
      .split(' and ')
      .map((g) => itemAt(must(/^isnotempty\((\w+)\)$/.exec(g), 'the line matched isnotempty guards'), 1))
  const project = expectLine(
    lines,
    /^\| project CorrelationMember, EventTime = (\w+), EventKey = strcat\((\w+), "\|", tostring\((\w+)\)\)((?:, Group\d+ = tostring\(\w+\))*)(?:, Value = tostring\((\w+)\))?;$/,
    'the occurrences projection',
  )
  const groups = [...(project[4] ?? '').matchAll(/, Group(\d+) = tostring\((\w+)\)/g)].map((g, j) => {
    if (Number(g[1]) !== j) throw new Unreadable('groups are not numbered 0, 1, 2 …')
    return itemAt(g, 2)
  })
  const keys = groups.map((_, j) => `Group${j}`)
  const on = keys.length ? keys.join(', ') : 'CorrelationAll'
  const all = keys.length ? '' : ' \\| extend CorrelationAll = 1'
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  let kind: Parsed['kind']
  let spanMs: number
  let thresholds: { op: string; value: number }[] = []
  const letLine = lines.shift() ?? ''
  if (
    new RegExp(
      `^let Events = Occurrences \\| distinct EventTime, EventKey${keys.map((k) => `, ${k}`).join('')}(, Value)?${all};$`,
    ).test(letLine)
  ) {
    expectLine(lines, /^Events$/, 'Events')
    expectLine(lines, new RegExp(`^\\| join kind=inner \\(Events\\) on ${esc(on)}$`), 'the window self-join')
    spanMs = spanOf(
      itemAt(expectLine(lines, /^\| where EventTime1 between \(EventTime \.\. EventTime \+ (\w+)\)$/, 'the window'), 1),
    )
    const agg = itemAt(
      expectLine(
        lines,
        new RegExp(`^\\| summarize WindowValue = (.+) by ${esc([...keys, 'EventKey', 'EventTime'].join(', '))}$`),
        'the window summarize',
      ),
      1,
    )
    if (agg === 'count()') kind = 'count'
    else if (agg === 'array_length(make_set_if(Value1, isnotempty(Value1)))') kind = 'distinct'
    else throw new Unreadable(`aggregation ${agg} is outside the verified subset`)
    thresholds = readThresholds(itemAt(expectLine(lines, /^\| where (.+)$/, 'the condition'), 1))
  } else if (new RegExp(`^let Events = Occurrences${all};$`).test(letLine)) {
    expectLine(lines, /^Events$/, 'Events')
    const next = lines[0] ?? ''
    if (next.startsWith('| join')) {
      expectLine(lines, new RegExp(`^\\| join kind=inner \\(Events\\) on ${esc(on)}$`), 'the window self-join')
      spanMs = spanOf(
        itemAt(
          expectLine(lines, /^\| where EventTime1 between \(EventTime \.\. EventTime \+ (\w+)\)$/, 'the window'),
          1,
        ),
      )
      expectLine(
        lines,
        new RegExp(
          `^\\| summarize WindowValue = array_length\\(make_set\\(CorrelationMember1\\)\\) by ${esc([...keys, 'EventKey', 'EventTime'].join(', '))}$`,
        ),
        'the rules-per-window summarize',
      )
      thresholds = readThresholds(itemAt(expectLine(lines, /^\| where (.+)$/, 'the condition'), 1))
      kind = 'members'
    } else {
      kind = 'ordered'
      const cols = [...keys, ...(keys.length ? [] : ['CorrelationAll'])].join(', ')
      expectLine(lines, /^\| where CorrelationMember == 0$/, 'the first step')
      expectLine(lines, new RegExp(`^\\| project ${esc(cols)}, Step0 = EventTime$`), 'the first step projection')
      spanMs = -1
      for (let k = 1; k < members.length; k++) {
        expectLine(
          lines,
          new RegExp(
            `^\\| join kind=inner \\(Events \\| where CorrelationMember == ${k} \\| project ${esc(cols)}, Step${k} = EventTime\\) on ${esc(on)}$`,
          ),
          `step ${k}`,
        )
        const w = expectLine(
          lines,
          new RegExp(`^\\| where Step${k} > Step${k - 1} and Step${k} <= Step0 \\+ (\\w+)$`),
          `step ${k}'s order and window`,
        )
        const s = spanOf(itemAt(w, 1))
        if (spanMs !== -1 && s !== spanMs) throw new Unreadable('the steps have different windows')
        spanMs = s
      }
      if (members.length < 2) throw new Unreadable('an ordered chain needs two members')
    }
  } else throw new Unreadable(`unexpected ${JSON.stringify(letLine)}`)
  const out = itemAt(expectLine(lines, /^\| summarize by (.+)$/, 'the output'), 1)
  const output =
    out === 'Fired = true'
      ? []
      : out.split(', ').map((o) => {
          const r = /^\['((?:[^'\\]|\\.)*)'\] = Group(\d+)$/.exec(o)
          if (!r || Number(r[2]) >= groups.length) throw new Unreadable(`output ${o} is not a group`)
          return { name: itemAt(r, 1).replace(/\\(.)/g, '$1'), group: Number(r[2]) }
        })
  if (lines.length) throw new Unreadable(`unexpected text after the query: ${JSON.stringify(lines[0])}`)
  return {
    members,
    guards,
    time: itemAt(project, 1),
    host: itemAt(project, 2),
    id: itemAt(project, 3),
    groups,
    ...(project[5] ? { value: project[5] } : {}),
    kind,
    spanMs,
    thresholds,
    output,
  }
}

function readThresholds(text: string): { op: string; value: number }[] {
  return text.split(' and ').map((t) => {
    const m = /^WindowValue (>=|<=|==|!=|>|<) (-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)$/i.exec(t)
    if (!m) throw new Unreadable(`condition ${t} is outside the verified subset`)
    return { op: must(m[1], 'the group matched'), value: Number(m[2]) }
  })
}

const meets = (v: number, ts: readonly { op: string; value: number }[]) =>
  ts.every(({ op, value }) =>
    op === '>'
      ? v > value
      : op === '>='
        ? v >= value
        : op === '<'
          ? v < value
          : op === '<='
            ? v <= value
            : op === '=='
              ? v === value
              : v !== value,
  )

interface Row {
  member: number
  time: number
  key: string
  groups: string[]
  value: string
}

export async function verifyKqlCorrelation(
  query: string,
  events: readonly JsonEvent[],
  options?: TargetOptions,
): Promise<CorrelationVerified> {
  const fail = (message: string): CorrelationVerified => ({
    diagnostics: [{ code: 'verify/parse', severity: 'error', message: `kql: ${message}`, target: 'kql' }],
  })
  let p: Parsed
  try {
    p = parse(query)
  } catch (e) {
    if (e instanceof Unreadable) return fail(e.message)
    throw e
  }
  const model = kqlModel(options)
  if (typeof model === 'string') return fail(model)
  for (const m of p.members)
    if (!model.tables[m.query.table]) return fail(`the ${model.variant} schema has no table ${m.query.table}`)
  const rows: Row[] = []
  const unrepresentable = new Set<number>()
  try {
    for (const [index, event] of events.entries()) {
      // Each event is a row of the table its origin lands in (the rule verifier's model); a member
      // reads the rows of its own table only.
      const placed = placeEvent(model, event)
      const readers = placed ? p.members.filter((m) => m.query.table === placed.table) : []
      if (!placed || readers.length === 0) continue
      const time = recordTime(event)
      if (!placed.row || time === undefined) {
        unrepresentable.add(index)
        continue
      }
      const columns = entryOf(model.tables, placed.table)
      for (const [column, type] of [
        [p.time, 'datetime'],
        [p.id, 'long'],
        [p.host, 'string'],
      ] as const)
        if (columns[column] !== type) return fail(`${placed.table}.${column} is not a ${type} column`)
      // The time column holds the record's time, the event id column its position in the stream,
      // the device-name column its host (Computer).
      const row: Record<string, string | number | boolean | null | Readonly<Record<string, unknown>>> = {
        ...placed.row,
        [p.time]: time,
        [p.id]: index,
      }
      if (typeof event['Computer'] === 'string') row[p.host] = event['Computer']
      for (const m of readers) {
        if (!keepsRow(m.query, row)) continue
        // A column's text as tostring() gives it: null is '', a dynamic value its JSON text.
        const text = (c: string) => {
          const v = row[c]
          return v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)
        }
        if (p.guards.some((g) => text(g) === '')) continue
        rows.push({
          member: m.index,
          time,
          key: `${text(p.host)}|${text(p.id)}`,
          groups: p.groups.map(text),
          value: p.value !== undefined ? text(p.value) : '',
        })
      }
    }
  } catch (e) {
    return fail(errorMessage(e))
  }
  const groupKey = (g: readonly string[]) => JSON.stringify(g)
  const fired = new Set<string>()
  const byGroup = new Map<string, Row[]>()
  for (const row of rows)
    (byGroup.get(groupKey(row.groups)) ?? mustGet(byGroup.set(groupKey(row.groups), []), groupKey(row.groups))).push(
      row,
    )
  for (const [key, list] of byGroup) {
    if (p.kind === 'ordered') {
      // Every chain Step0 < Step1 < … with each step ≤ Step0 + span: a join per step, then where.
      let chains = list.filter((r) => r.member === 0).map((r) => ({ start: r.time, last: r.time }))
      for (let k = 1; k < p.members.length; k++) {
        const next = list.filter((r) => r.member === k)
        chains = chains.flatMap((c) =>
          next
            .filter((n) => n.time > c.last && n.time <= c.start + p.spanMs)
            .map((n) => ({ start: c.start, last: n.time })),
        )
      }
      if (chains.length) fired.add(key)
      continue
    }
    // distinct (count and distinct kinds): one row per (time, key, groups[, value]).
    const source =
      p.kind === 'members'
        ? list
        : [
            ...new Map(
              list.map((r) => [JSON.stringify([r.time, r.key, r.groups, p.kind === 'distinct' ? r.value : '']), r]),
            ).values(),
          ]
    const anchors = new Map<string, Row>()
    for (const a of source) anchors.set(JSON.stringify([a.key, a.time]), a)
    for (const a of anchors.values()) {
      const window = source.filter((b) => b.time >= a.time && b.time <= a.time + p.spanMs)
      // summarize by EventKey, EventTime: every left row with this key and time contributes its pairs.
      const lefts = source.filter((x) => x.key === a.key && x.time === a.time).length
      const value =
        p.kind === 'count'
          ? window.length * lefts
          : p.kind === 'distinct'
            ? new Set(window.map((b) => b.value).filter((v) => v !== '')).size
            : new Set(window.map((b) => b.member)).size
      if (meets(value, p.thresholds)) {
        fired.add(key)
        break
      }
    }
  }
  const groups: FiringGroup[] = [...fired].sort().map((key) => {
    // Every row of a group has the group's values (the key is their JSON).
    const values = first(mustGet(byGroup, key)).groups
    return { group: Object.fromEntries(p.output.map((o) => [o.name, itemAt(values, o.group)])) }
  })
  return { groups, unrepresentable: [...unrepresentable].sort((a, b) => a - b), diagnostics: [] }
}
