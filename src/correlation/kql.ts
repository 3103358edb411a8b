/**
 * KQL correlations: the referenced rules' own KQL (`Table | where …`, from the kql backend) joined
 * under `union` into occurrences, then a self-join on the group that opens one window per
 * occurrence — `EventTime1 between (EventTime .. EventTime + span)`, both ends included
 * (https://learn.microsoft.com/kusto/query/between-operator: "Filters a record set for data
 * matching the values in an inclusive range") — and a `summarize` per window. No `bin()`: fixed
 * bins would split a burst that straddles a bin edge (docs/semantics.md, "Windows").
 *
 * `join kind=inner` keeps every matching pair (the default, innerunique, would keep one row per
 * left key: https://learn.microsoft.com/kusto/query/join-operator). Distinct values are counted
 * with make_set_if, which is exact (dcount is an estimate: https://learn.microsoft.com/kusto/query/dcount-aggfunction).
 * An event is identified by device, time and ReportId ("To identify unique events, this column must
 * be used in conjunction with the DeviceName and Timestamp columns",
 * https://learn.microsoft.com/defender-xdr/advanced-hunting-deviceprocessevents-table).
 */
import { familiesOf, kqlEnv, resolveField, resolveLogsource } from '../backends/kql-env.js'
import type { TargetOptions } from '../backends/types.js'
import { memberField } from '../evaluate/correlate.js'
import { HOST_FIELD } from './event-time.js'
import type { Threshold } from './model.js'
import { compileMembers, spanText } from './members.js'
import { refuse, type CorrelationTarget } from './targets.js'
import { entryOf, first, itemAt, must } from '../guards.js'

/** The host field lands in the table's device-name column: Defender's DeviceName, Sentinel's Computer. */
export const HOST_COLUMNS = ['DeviceName', 'Computer'] as const
/** Time and event id columns, in the order they are looked for. */
export const TIME_COLUMNS = ['Timestamp', 'TimeGenerated'] as const
export const ID_COLUMNS = ['ReportId', 'EventRecordId'] as const

const OPS = { gt: '>', gte: '>=', lt: '<', lte: '<=', eq: '==', neq: '!=' } as const
const thresholds = (value: string, condition: readonly Threshold[]) =>
  condition.map((t) => `${value} ${OPS[t.op]} ${t.value}`).join(' and ')

const BASE = /^([A-Za-z_][A-Za-z0-9_]*)\n\| where ([^\n]+)$/

export const target: CorrelationTarget = {
  id: 'kql',
  async compile(rc, options?: TargetOptions) {
    // A list of families (`defender,sentinel`): the correlation reads one family's tables, the
    // first whose tables hold every member rule.
    const families = familiesOf(options?.variant)
    if (Array.isArray(families) && families.length > 1) {
      let firstRefusal: Awaited<ReturnType<CorrelationTarget['compile']>> | undefined
      for (const variant of families) {
        const r = await target.compile(rc, { ...options, variant })
        if (r.query !== undefined) return r
        firstRefusal ??= r
      }
      return must(firstRefusal, 'a list of families has a first')
    }
    const c = rc.correlation
    if (rc.members.some((m) => m.kind === 'correlation'))
      return refuse(rc, 'kql', 'target/unsupported-correlation-chain', 'a correlation of correlations is not compiled')
    if (c.type === 'value_sum' || c.type === 'value_avg' || c.type === 'value_percentile')
      return refuse(
        rc,
        'kql',
        'target/unsupported-correlation',
        `${c.type} is not compiled: KQL's sum() and avg() skip nulls and coerce text, which the KQL verifier does not model yet`,
      )
    const r = kqlEnv(options ?? {})
    if (!r.env) return refuse(rc, 'kql', 'target/unsupported-logsource', `${r.error}`)
    const env = r.env
    const compiled = await compileMembers(rc, 'kql', options)
    if ('refused' in compiled) return compiled.refused
    const members = compiled.members.map((m) => m.rule)
    const blocks: string[] = []
    const tables = new Set<string>()
    const groupColumns: string[][] = c.groupBy.map(() => [])
    const valueColumns: string[] = []
    for (const [i, { rule, query }] of compiled.members.entries()) {
      const m = BASE.exec(query)
      const ls = resolveLogsource(env, rule.logsource)
      if (!m || !ls)
        return refuse(
          rc,
          'kql',
          'target/unsupported-correlation-rule',
          `referenced rule ${rule.id ?? rule.title} does not compile to one table's where`,
        )
      const table = must(m[1], 'the group matched')
      tables.add(table)
      const columns = entryOf(env.tables, table)
      for (const [j, g] of c.groupBy.entries()) {
        const field = memberField(c, g, itemAt(rc.members, i))
        const column =
          field === HOST_FIELD
            ? HOST_COLUMNS.find((h) => columns[h] === 'string')
            : (() => {
                const f = resolveField(env, ls, field)
                return typeof f === 'object' && !f.note && f.type === 'string' ? f.column : undefined
              })()
        if (!column)
          return refuse(
            rc,
            'kql',
            'target/unsupported-field',
            `group-by field ${field} has no exact string column in ${m[1]} (rule ${rule.id ?? rule.title})`,
          )
        itemAt(groupColumns, j).push(column)
      }
      if (c.field !== undefined) {
        const field = memberField(c, c.field, itemAt(rc.members, i))
        const f = resolveField(env, ls, field)
        if (typeof f !== 'object' || f.note || f.type !== 'string')
          return refuse(
            rc,
            'kql',
            'target/unsupported-field',
            `field ${field} has no exact string column in ${m[1]} (rule ${rule.id ?? rule.title})`,
          )
        valueColumns.push(f.column)
      }
      blocks.push(`(${m[1]}\n| where ${m[2]}\n| extend CorrelationMember = ${i})`)
    }
    if (tables.size !== 1)
      return refuse(
        rc,
        'kql',
        'target/unsupported-correlation-rule',
        `the referenced rules read several tables (${[...tables].join(', ')}); a union of tables with other columns is not compiled`,
      )
    const columns = entryOf(env.tables, first([...tables]))
    const time = TIME_COLUMNS.find((t) => columns[t] === 'datetime')
    const id = ID_COLUMNS.find((t) => columns[t] === 'long')
    if (!time || !id)
      return refuse(
        rc,
        'kql',
        'target/unsupported-correlation-rule',
        `table ${[...tables][0]} has no time and event id columns`,
      )
    if (groupColumns.some((cols) => new Set(cols).size !== 1) || new Set(valueColumns).size > 1)
      return refuse(
        rc,
        'kql',
        'target/unsupported-field',
        'aliases that send a group-by or value field to different columns are not compiled',
      )
    const groups = groupColumns.map((cols) => first(cols))
    const host = HOST_COLUMNS.find((h) => columns[h] === 'string') ?? first(groups)
    const project = [
      'CorrelationMember',
      `EventTime = ${time}`,
      `EventKey = strcat(${host}, "|", tostring(${id}))`,
      ...groups.map((g, j) => `Group${j} = tostring(${g})`),
      ...(valueColumns.length ? [`Value = tostring(${valueColumns[0]})`] : []),
    ]
    const guards = groups.map((g) => `isnotempty(${g})`)
    const lines = [
      `let Occurrences = union`,
      blocks.join(',\n'),
      ...(guards.length ? [`| where ${guards.join(' and ')}`] : []),
      `| project ${project.join(', ')};`,
    ]
    const keys = groups.map((_, j) => `Group${j}`)
    const on = keys.length ? keys.join(', ') : 'CorrelationAll'
    const all = keys.length ? '' : ' | extend CorrelationAll = 1'
    const by = [...keys, 'EventKey', 'EventTime'].join(', ')
    const out = c.groupBy.map((g, j) => `['${g.replace(/'/g, "\\'")}'] = Group${j}`)
    const window = `| where EventTime1 between (EventTime .. EventTime + ${spanText(c.timespan / 1000)})`
    switch (c.type) {
      case 'event_count':
      case 'value_count': {
        const distinct = `let Events = Occurrences | distinct EventTime, EventKey${keys.map((k) => `, ${k}`).join('')}${c.type === 'value_count' ? ', Value' : ''}${all};`
        const agg = c.type === 'event_count' ? 'count()' : 'array_length(make_set_if(Value1, isnotempty(Value1)))'
        lines.push(
          distinct,
          'Events',
          `| join kind=inner (Events) on ${on}`,
          window,
          `| summarize WindowValue = ${agg} by ${by}`,
          `| where ${thresholds('WindowValue', c.condition)}`,
        )
        break
      }
      case 'temporal': {
        const condition = c.condition.length ? c.condition : [{ op: 'gte' as const, value: members.length }]
        lines.push(
          `let Events = Occurrences${all};`,
          'Events',
          `| join kind=inner (Events) on ${on}`,
          window,
          `| summarize WindowValue = array_length(make_set(CorrelationMember1)) by ${by}`,
          `| where ${thresholds('WindowValue', condition)}`,
        )
        break
      }
      case 'temporal_ordered': {
        lines.push(
          `let Events = Occurrences${all};`,
          `Events`,
          `| where CorrelationMember == 0`,
          `| project ${[...keys, ...(keys.length ? [] : ['CorrelationAll'])].join(', ')}, Step0 = EventTime`,
        )
        for (let k = 1; k < members.length; k++)
          lines.push(
            `| join kind=inner (Events | where CorrelationMember == ${k} | project ${[...keys, ...(keys.length ? [] : ['CorrelationAll'])].join(', ')}, Step${k} = EventTime) on ${on}`,
            `| where Step${k} > Step${k - 1} and Step${k} <= Step0 + ${spanText(c.timespan / 1000)}`,
          )
        break
      }
    }
    lines.push(`| summarize by ${out.length ? out.join(', ') : 'Fired = true'}`)
    return { query: lines.join('\n'), diagnostics: [] }
  },
  async verify(query, events, options) {
    const { verifyKqlCorrelation } = await import('./kql-verify.js')
    const families = familiesOf(options?.variant)
    if (Array.isArray(families) && families.length > 1) {
      // The family whose tables the query reads (table names differ between families).
      const variant =
        families.find((f) =>
          Object.keys(kqlEnv({ variant: f }).env?.tables ?? {}).some((t) =>
            new RegExp(`(^|[^A-Za-z0-9_])${t}\\b`).test(query),
          ),
        ) ?? first(families)
      return verifyKqlCorrelation(query, events, { ...options, variant })
    }
    return verifyKqlCorrelation(query, events, options)
  },
}
