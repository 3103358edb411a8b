/**
 * The osquery correlation verifier: runs the emitted SQL text in real SQLite (sql.js), once per
 * host, on the tables the text reads, each holding that host's events as rows, plus `system_info`
 * with the host's name — osquery's model: every osqueryd answers for its own host. It reads only the
 * query text and the events.
 *
 * An event becomes a row of every evented table the query reads (as the reference tries every
 * event against every referenced rule), with `eid` its position and `time` its time in whole
 * seconds. The event's time is the first of UtcTime, TimeCreated, @timestamp it holds. Events
 * without a host (`Computer`) or with a time that has milliseconds cannot be osquery rows: they
 * are reported unrepresentable.
 */
import type { Database } from 'sql.js'
import { loadEnv, mapEvent, type Env, type LogSourceEntry, type Table } from '../backends/osquery-env.js'
import type { TargetOptions } from '../backends/types.js'
import type { Diagnostic } from '../diagnostics.js'
import type { JsonEvent } from '../rule/rule.js'
import { registerOsqueryFunctions } from '../verify/osquery-udf.js'
import { sqlite } from '../verify/osquery.js'
import { readTime } from './event-time.js'
import type { CorrelationVerified, FiringGroup } from './targets.js'

const TIME_FIELDS = ['UtcTime', 'TimeCreated', '@timestamp']

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`

function createTable(table: Table): string {
  const cols = [...table.columns].map(([name, c]) => `${quote(name)} ${c.type}${c.nocase ? ' COLLATE NOCASE' : ''}`)
  return `CREATE TABLE ${quote(table.name)} (${cols.join(', ')})`
}

const fail = (message: string): CorrelationVerified => ({
  diagnostics: [{ code: 'verify/parse', severity: 'error', message: `osquery: ${message}`, target: 'osquery' }],
})

/** The log source a row of `table` stands for: the first whose fixed values the event does not contradict. */
function entryFor(env: Env, table: string, event: JsonEvent): LogSourceEntry | undefined {
  const entries = env.logsources.filter((l) => l.table === table)
  return (
    entries.find((l) =>
      Object.entries(l.conditions).every(([column, want]) => {
        const field = Object.entries(l.fields).find(([, col]) => col === column)?.[0]
        const have = field !== undefined ? event[field] : undefined
        const wants = (Array.isArray(want) ? want : [want]).map((w) => String(w).toLowerCase())
        return have === undefined || wants.includes(String(have).toLowerCase())
      }),
    ) ?? entries[0]
  )
}

export async function verifyOsqueryCorrelation(
  query: string,
  events: readonly JsonEvent[],
  options?: TargetOptions,
): Promise<CorrelationVerified> {
  const loaded = loadEnv(options?.pipeline)
  if (!loaded.env) return fail(loaded.error ?? 'invalid osquery environment')
  const env = loaded.env
  if (!/^\s*WITH\s|^\s*SELECT\s/i.test(query)) return fail(`not a SELECT statement: ${query.slice(0, 60)}`)
  const tables = [...new Set([...query.matchAll(/\bFROM\s+([a-z_]+)/gi)].map((m) => m[1]!))].filter((t) =>
    env.tables.has(t),
  )
  // Events by host, each with its time in seconds.
  const hosts = new Map<string, { index: number; event: JsonEvent; seconds: number }[]>()
  const unrepresentable: number[] = []
  events.forEach((event, index) => {
    const host = event['Computer']
    const field = TIME_FIELDS.find((f) => event[f] !== undefined)
    const t =
      field !== undefined ? readTime(event[field], { field, zoneless: field === 'UtcTime', why: '' }) : undefined
    if (typeof host !== 'string' || host === '' || !t || !('ms' in t) || t.ms % 1000 !== 0) {
      unrepresentable.push(index)
      return
    }
    const list = hosts.get(host) ?? []
    list.push({ index, event, seconds: t.ms / 1000 })
    hosts.set(host, list)
  })
  const SQL = await sqlite()
  const groups: FiringGroup[] = []
  const diagnostics: Diagnostic[] = []
  for (const host of [...hosts.keys()].sort()) {
    const db: Database = new SQL.Database()
    try {
      registerOsqueryFunctions(db)
      db.run('CREATE TABLE system_info (hostname TEXT, computer_name TEXT)')
      db.run('INSERT INTO system_info VALUES (?, ?)', [host, host])
      for (const name of tables) db.run(createTable(env.tables.get(name)!))
      for (const { index, event, seconds } of hosts.get(host)!) {
        for (const name of tables) {
          const ls = entryFor(env, name, event)
          if (!ls) continue
          const row = mapEvent(env, ls, Object.keys(event), event)
          if (row.inexact.length) unrepresentable.push(index)
          const table = env.tables.get(name)!
          const values: Record<string, string | number | null> = {
            ...row.values,
            time: seconds,
            eid: table.columns.get('eid')?.type === 'TEXT' ? String(index) : index,
          }
          const cols = Object.keys(values).filter((c) => table.columns.has(c))
          db.run(
            `INSERT INTO ${quote(name)} (${cols.map(quote).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
            cols.map((c) => values[c] ?? null),
          )
        }
      }
      let result
      try {
        result = db.exec(query)
      } catch (e) {
        return fail(`SQLite rejects or cannot run the query: ${(e as Error).message}`)
      }
      for (const r of result[result.length - 1]?.values ?? []) {
        const columns = result[result.length - 1]!.columns
        const group: Record<string, string> = {}
        columns.forEach((col, i) => {
          const v = r[i]
          if (col !== 'fired' && v !== null && v !== undefined) group[col] = String(v)
        })
        groups.push({ group })
      }
    } finally {
      db.close()
    }
  }
  groups.sort((a, b) => (JSON.stringify(a.group) < JSON.stringify(b.group) ? -1 : 1))
  return { groups, unrepresentable: [...new Set(unrepresentable)].sort((a, b) => a - b), diagnostics }
}
