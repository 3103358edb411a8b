/**
 * osquery correlations: one SELECT over the evented tables of the referenced rules, built on the
 * osquery backend's own compile of each rule (`SELECT * FROM <table> WHERE <predicate>;`). Each
 * referenced rule's rows become occurrences (event id, `time`, group values); every occurrence opens
 * a window (a self-join on the group and `b.time BETWEEN a.time AND a.time + timespan`), which is
 * the sliding window of docs/semantics.md with both ends included — no fixed time buckets.
 *
 * osquery runs on each host and its tables hold that host's events only, so the host is always a
 * group (the host field, `Computer`, must be in group-by); its value is the host's own name,
 * `system_info.hostname`. Scheduled-query semantics (docs/semantics.md, "osquery"): a scheduled
 * query over an evented table sees only the events since its previous run unless osqueryd runs
 * with `--events_optimize=false`, and events older than `--events_expiry` are gone; the query is
 * exact over the events it sees, so run it with events_optimize off and events_expiry at least
 * the timespan plus the schedule interval.
 *
 * `time` is whole seconds in osquery; an event time with milliseconds is not an osquery row.
 */
import { isIntegerType, loadEnv, placeOf, resolveLogSource, type FieldPlace } from '../backends/osquery-env.js'
import type { TargetOptions } from '../backends/types.js'
import { HOST_FIELD } from './event-time.js'
import { memberField } from '../evaluate/correlate.js'
import type { Threshold } from './model.js'
import { compileMembers } from './members.js'
import { refuse, type CorrelationTarget } from './targets.js'
import { itemAt, must } from '../guards.js'

const BASE = /^SELECT \* FROM ([a-z_]+)(?: WHERE ([\s\S]*))?;$/

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`

function placeExpr(place: FieldPlace): string {
  return place.kind === 'column' ? place.column : `json_extract(${place.column}, '${place.path.replace(/'/g, "''")}')`
}

const conditionSql = (value: string, condition: readonly Threshold[]) =>
  condition
    .map((t) => `${value} ${{ gt: '>', gte: '>=', lt: '<', lte: '<=', eq: '=', neq: '<>' }[t.op]} ${t.value}`)
    .join(' AND ')

export const target: CorrelationTarget = {
  id: 'osquery',
  async compile(rc, options?: TargetOptions) {
    const c = rc.correlation
    if (rc.members.some((m) => m.kind === 'correlation'))
      return refuse(
        rc,
        'osquery',
        'target/unsupported-correlation-chain',
        'a correlation of correlations is not compiled (the inner correlation would have to become rows of a table)',
      )
    const members = rc.members.map((m) => must(m.kind === 'rule' ? m.rule : undefined, 'chains are refused above'))
    const loaded = loadEnv(options?.pipeline)
    if (!loaded.env)
      return refuse(rc, 'osquery', 'target/unsupported-logsource', loaded.error ?? 'invalid osquery environment')
    const env = loaded.env
    const isHost = (g: string) => rc.members.every((m) => memberField(c, g, m) === HOST_FIELD)
    const hostGroups = c.groupBy.filter(isHost)
    if (hostGroups.length === 0)
      return refuse(
        rc,
        'osquery',
        'target/unsupported-correlation-group-by',
        `osquery runs on each host and its tables hold only that host's events, so a correlation must group by the host (${HOST_FIELD}); group-by ${c.groupBy.join(', ') || '(none)'} correlates across hosts`,
      )
    const otherGroups = c.groupBy.filter((g) => !isHost(g))
    const compiled = await compileMembers(rc, 'osquery', options)
    if ('refused' in compiled) return compiled.refused
    const selects: string[] = []
    for (const [i, { rule, query }] of compiled.members.entries()) {
      const m = BASE.exec(query)
      const ls = resolveLogSource(env, rule.logsource)
      if (!m || !ls)
        return refuse(
          rc,
          'osquery',
          'target/unsupported-correlation-rule',
          `referenced rule ${rule.id ?? rule.title} does not compile to one table's SELECT`,
        )
      const table = env.tables.get(must(m[1], 'the group matched'))
      if (!table?.evented || !table.columns.has('time') || !table.columns.has('eid'))
        return refuse(
          rc,
          'osquery',
          'target/unsupported-correlation-rule',
          `table ${m[1]} of rule ${rule.id ?? rule.title} is not an evented table with time and eid columns`,
        )
      // A rule compiled for another log source than its own (Windows process creation's Sysmon form,
      // which may also read Security 4688 rows under other names) has its fields elsewhere than
      // its log source says: only the host can group it.
      if (m[1] !== ls.table && (otherGroups.length > 0 || c.field !== undefined))
        return refuse(
          rc,
          'osquery',
          'target/unsupported-correlation-rule',
          `rule ${rule.id ?? rule.title} reads ${m[1]}, not its log source's ${ls.table}: its fields there (Sysmon's event 1, Security 4688's own names) are not correlated; group it by the host only`,
        )
      const cols = [`${i} AS member`, `'${table.name}' AS source`, 'eid', 'time']
      const guards: string[] = []
      for (const [j, g] of otherGroups.entries()) {
        const field = memberField(c, g, itemAt(rc.members, i))
        const place = placeOf(env, ls, field)
        if (!place)
          return refuse(
            rc,
            'osquery',
            'target/unsupported-field',
            `group-by field ${field} has no column in ${table.name} (rule ${rule.id ?? rule.title})`,
          )
        // Text without a collation: groups compare exactly, as the reference compares them.
        cols.push(`CAST(${placeExpr(place)} AS TEXT) AS g${j}`)
        guards.push(`${placeExpr(place)} IS NOT NULL AND CAST(${placeExpr(place)} AS TEXT) <> ''`)
      }
      if (c.field !== undefined) {
        const field = memberField(c, c.field, itemAt(rc.members, i))
        const place = placeOf(env, ls, field)
        if (!place)
          return refuse(
            rc,
            'osquery',
            'target/unsupported-field',
            `field ${field} has no column in ${table.name} (rule ${rule.id ?? rule.title})`,
          )
        if (c.type === 'value_sum' || c.type === 'value_avg') {
          if (place.kind !== 'column' || !isIntegerType(place.type))
            return refuse(
              rc,
              'osquery',
              'target/unsupported-correlation',
              `${c.type} needs an integer column; ${field} is ${place.kind === 'column' ? `${place.type}` : 'text inside event data'} in ${table.name}, where SQLite would add non-numbers as 0 or round decimals differently`,
            )
          cols.push(`${placeExpr(place)} AS value`)
        } else cols.push(`NULLIF(CAST(${placeExpr(place)} AS TEXT), '') AS value`)
      }
      const where = [m[2] ? `(${m[2]})` : '', ...guards].filter((x) => x).join(' AND ')
      selects.push(`SELECT ${cols.join(', ')} FROM ${table.name}${where ? ` WHERE ${where}` : ''}`)
    }
    const span = c.timespan / 1000
    const g = otherGroups.map((_, j) => `g${j}`)
    const sameGroup = (a: string, b: string) => g.map((x) => `${b}.${x} = ${a}.${x}`)
    const host = hostGroups.map((h) => `(SELECT hostname FROM system_info) AS ${quoteIdent(h)}`)
    const out = (alias: string) =>
      [...host, ...g.map((x, j) => `${alias}.${x} AS ${quoteIdent(itemAt(otherGroups, j))}`)].join(', ')
    const occurrences = `occurrences AS (${selects.join(' UNION ALL ')})`
    // One event selected by two referenced rules is one event to count (the member column aside).
    const events = `events AS (SELECT DISTINCT source, eid, time${g.map((x) => `, ${x}`).join('')}${c.field !== undefined ? ', value' : ''} FROM occurrences)`
    const inWindow = (a: string, b: string) =>
      [...sameGroup(a, b), `${b}.time BETWEEN ${a}.time AND ${a}.time + ${span}`].join(' AND ')
    const anchor = (a: string) => [...g.map((x) => `${a}.${x}`), `${a}.source`, `${a}.eid`].join(', ')
    let sql: string
    switch (c.type) {
      case 'event_count':
      case 'value_count':
      case 'value_sum':
      case 'value_avg': {
        const agg = {
          event_count: 'COUNT(*)',
          value_count: 'COUNT(DISTINCT b.value)',
          value_sum: 'SUM(b.value)',
          value_avg: 'AVG(b.value)',
        }[c.type]
        sql = `WITH ${occurrences}, ${events}, windows AS (SELECT ${anchor('a')}, ${agg} AS n FROM events a JOIN events b ON ${inWindow('a', 'b')} GROUP BY ${anchor('a')}) SELECT DISTINCT ${out('w') || '1 AS fired'} FROM windows w WHERE ${conditionSql('w.n', c.condition)};`
        break
      }
      case 'value_percentile':
        sql = `WITH ${occurrences}, ${events}, shares AS (SELECT ${anchor('a')}, b.value AS value, COUNT(*) AS k FROM events a JOIN events b ON ${inWindow('a', 'b')} WHERE b.value IS NOT NULL GROUP BY ${anchor('a')}, b.value), totals AS (SELECT ${[...g, 'source', 'eid'].join(', ')}, SUM(k) AS total FROM shares GROUP BY ${[...g, 'source', 'eid'].join(', ')}) SELECT DISTINCT ${out('s')} FROM shares s JOIN totals t ON ${[...g, 'source', 'eid'].map((x) => `t.${x} = s.${x}`).join(' AND ')} WHERE ${conditionSql('100.0 * s.k / t.total', c.condition)};`
        break
      case 'temporal': {
        const condition = c.condition.length ? c.condition : [{ op: 'gte' as const, value: members.length }]
        sql = `WITH ${occurrences}, windows AS (SELECT ${anchor('a')}, COUNT(DISTINCT b.member) AS n FROM occurrences a JOIN occurrences b ON ${inWindow('a', 'b')} GROUP BY ${anchor('a')}) SELECT DISTINCT ${out('w')} FROM windows w WHERE ${conditionSql('w.n', condition)};`
        break
      }
      case 'temporal_ordered': {
        // Each next rule's event strictly later than the previous one, the last within timespan of the first.
        const joins = members
          .slice(1)
          .map((_, k) => {
            const cur = `s${k + 1}`
            const prev = `s${k}`
            return `JOIN occurrences ${cur} ON ${cur}.member = ${k + 1} AND ${[...sameGroup('s0', cur), `${cur}.time > ${prev}.time`, `${cur}.time <= s0.time + ${span}`].join(' AND ')}`
          })
          .join(' ')
        sql = `WITH ${occurrences} SELECT DISTINCT ${out('s0')} FROM occurrences s0 ${joins} WHERE s0.member = 0;`
        break
      }
    }
    return { query: sql, diagnostics: [] }
  },
  async verify(query, events, options) {
    const { verifyOsqueryCorrelation } = await import('./osquery-verify.js')
    return verifyOsqueryCorrelation(query, events, options)
  },
}
