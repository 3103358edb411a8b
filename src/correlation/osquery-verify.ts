/**
 * The osquery correlation verifier: runs the emitted SQL text in real SQLite (sql.js), once per
 * host, on the tables the text reads, each holding that host's events as rows, plus `system_info`
 * with the host's name — osquery's model: every osqueryd answers for its own host. It reads only the
 * query text and the events.
 *
 * An event becomes a row of the table its origin lands in, as the osquery rule verifier places it
 * (src/verify/osquery-events.ts), when the query reads that table, with `eid` its position and
 * `time` the record's time (src/verify/event-time.ts) in whole seconds. Events without a host
 * (`Computer`), with a time that has milliseconds or with a value no osquery column holds exactly
 * cannot be osquery rows: they are reported unrepresentable. It imports nothing from the backend.
 */
import type { Database } from 'sql.js'
import type { Diagnostic } from '../diagnostics.js'
import type { JsonEvent } from '../rule/rule.js'
import type { TargetOptions } from '../target-ids.js'
import { recordTime } from '../verify/event-time.js'
import { osqueryModel, placeRows, type PlacedRow, type Table } from '../verify/osquery-events.js'
import { registerOsqueryFunctions } from '../verify/osquery-udf.js'
import { sqlite } from '../verify/osquery.js'
import type { CorrelationVerified, FiringGroup } from './targets.js'
import { errorMessage, last, must, mustGet } from '../guards.js'

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`

function createTable(table: Table): string {
  const cols = [...table.columns].map(([name, c]) => `${quote(name)} ${c.type}${c.nocase ? ' COLLATE NOCASE' : ''}`)
  return `CREATE TABLE ${quote(table.name)} (${cols.join(', ')})`
}

const fail = (message: string): CorrelationVerified => ({
  diagnostics: [{ code: 'verify/parse', severity: 'error', message: `osquery: ${message}`, target: 'osquery' }],
})

export async function verifyOsqueryCorrelation(
  query: string,
  events: readonly JsonEvent[],
  options?: TargetOptions,
): Promise<CorrelationVerified> {
  const model = osqueryModel(options?.pipeline)
  if (typeof model === 'string') return fail(model)
  if (!/^\s*WITH\s|^\s*SELECT\s/i.test(query)) return fail(`not a SELECT statement: ${query.slice(0, 60)}`)
  const tables = [
    ...new Set([...query.matchAll(/\bFROM\s+([a-z_]+)/gi)].map((m) => must(m[1], 'the group matched'))),
  ].filter((t) => model.tables.has(t))
  // Rows by host: each event placed where its origin lands, when the query reads that table.
  const hosts = new Map<string, { index: number; row: PlacedRow; seconds: number }[]>()
  const unrepresentable: number[] = []
  events.forEach((event, index) => {
    const row = placeRows(model, event).find((r) => tables.includes(r.table))
    if (!row) return
    const host = event['Computer']
    const ms = recordTime(event)
    if (typeof host !== 'string' || host === '' || ms === undefined || ms % 1000 !== 0 || row.inexact.length) {
      unrepresentable.push(index)
      return
    }
    const list = hosts.get(host) ?? []
    list.push({ index, row, seconds: ms / 1000 })
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
      for (const name of tables) db.run(createTable(mustGet(model.tables, name)))
      for (const { index, row, seconds } of mustGet(hosts, host)) {
        const table = mustGet(model.tables, row.table)
        const values: Record<string, string | number | null> = {
          ...row.values,
          time: seconds,
          eid: table.columns.get('eid')?.type === 'TEXT' ? String(index) : index,
        }
        const cols = Object.keys(values).filter((c) => table.columns.has(c))
        db.run(
          `INSERT INTO ${quote(row.table)} (${cols.map(quote).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
          cols.map((c) => values[c] ?? null),
        )
      }
      let result
      try {
        result = db.exec(query)
      } catch (e) {
        return fail(`SQLite rejects or cannot run the query: ${errorMessage(e)}`)
      }
      for (const r of result[result.length - 1]?.values ?? []) {
        const columns = last(result).columns
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
