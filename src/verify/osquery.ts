/**
 * The osquery verifier: runs the emitted SQL text in a real SQLite (sql.js) on a table shaped like
 * the log source's osquery table (declared types and NOCASE collations from targets/osquery/schema),
 * with osquery's own SQL functions registered, one event row at a time. SQLite itself parses the
 * text, so a query osquery's SQLite would reject is rejected here too.
 */
import type { DiagnosticCode } from '../diagnostics.js'
import type { Database, SqlJsStatic, Statement } from 'sql.js'
import type { Diagnostic } from '../diagnostics.js'
import { fieldsOf } from '../ast/nodes.js'
import type { JsonEvent, Rule } from '../rule/rule.js'
import type { TargetOptions, Verified, Verifier } from '../backends/types.js'
import { loadEnv, mapEvent, resolveLogSource, type Table } from '../backends/osquery-env.js'
import { registerOsqueryFunctions } from './osquery-udf.js'

let engine: Promise<SqlJsStatic> | undefined

/** sql.js (SQLite compiled to WebAssembly), loaded on first use. */
export function sqlite(): Promise<SqlJsStatic> {
  engine ??= import('sql.js').then((m) => (m.default as unknown as () => Promise<SqlJsStatic>)())
  return engine
}

/** The SQLite version the verifier runs (osquery bundles 3.42; LIKE/GLOB/collation rules are unchanged since). */
export async function sqliteVersion(): Promise<string> {
  const db = new (await sqlite()).Database()
  try {
    return String(db.exec('SELECT sqlite_version()')[0]!.values[0]![0])
  } finally {
    db.close()
  }
}

const quote = (name: string): string => `"${name.replace(/"/g, '""')}"`

/** `CREATE TABLE` with osquery's declared column types (so SQLite's affinities apply) and collations. */
function createTable(table: Table): string {
  const cols = [...table.columns].map(([name, c]) => `${quote(name)} ${c.type}${c.nocase ? ' COLLATE NOCASE' : ''}`)
  return `CREATE TABLE ${quote(table.name)} (${cols.join(', ')})`
}

/**
 * The SQL functions a query may call in osquery: SQLite 3.42's built-in scalar, date and JSON
 * functions (osquery bundles 3.42; https://sqlite.org/lang_corefunc.html, https://sqlite.org/json1.html,
 * https://sqlite.org/lang_datefunc.html) and the ones osquery registers itself (osquery/sql/*.cpp).
 * sql.js runs a newer SQLite, so a function added after 3.42 (unistr, octet_length, string_agg …)
 * would run here and fail in osquery: the verifier rejects it.
 */
const OSQUERY_FUNCTIONS = new Set([
  ...'abs changes char coalesce format glob hex ifnull iif instr last_insert_rowid length like likelihood likely lower ltrim max min nullif printf quote random randomblob replace round rtrim sign soundex sqlite_source_id sqlite_version substr substring total_changes trim typeof unhex unicode unlikely upper zeroblob'.split(
    ' ',
  ),
  ...'date time datetime julianday unixepoch strftime avg count group_concat sum total'.split(' '),
  ...'json json_array json_array_length json_extract json_insert json_object json_patch json_remove json_replace json_set json_type json_valid json_quote json_group_array json_group_object -> ->>'.split(
    ' ',
  ),
  ...'regex_match regex_split split inet_aton concat concat_ws in_cidr_block md5 sha1 sha256 community_id_v1 community_id_v1_strict to_base64 from_base64 conditional_to_base64 version_compare'.split(
    ' ',
  ),
  ...'sqrt acos asin atan cos sin tan cot exp log log10 power ceil floor degrees radians pi'.split(' '),
])

/** Functions the prepared statement calls, read from SQLite's own EXPLAIN listing (opcode p4 `name(argc)`). */
function functionsCalled(db: Database, query: string): string[] {
  const out = new Set<string>()
  for (const row of db.exec(`EXPLAIN ${query}`)[0]?.values ?? []) {
    const m = /^([^()]+)\(-?\d+\)$/.exec(String(row[5] ?? ''))
    if (m && /Func|Agg/.test(String(row[1]))) out.add(m[1]!.toLowerCase())
  }
  return [...out].sort()
}

const fail = (code: DiagnosticCode, message: string, rule: Rule): Verified => ({
  diagnostics: [{ code, severity: 'error', message, file: rule.file, at: rule.at, target: 'osquery' }],
})

export const verifier: Verifier = {
  id: 'osquery',
  async verify(query: string, rule: Rule, events: readonly JsonEvent[], options?: TargetOptions): Promise<Verified> {
    const loaded = loadEnv(options?.pipeline)
    if (!loaded.env) return fail('verify/setup', loaded.error ?? 'invalid osquery environment', rule)
    const env = loaded.env
    const ls = resolveLogSource(env, rule.logsource)
    if (!ls) return fail('verify/setup', "no osquery table for the rule's log source", rule)
    const table = env.tables.get(ls.table)!
    const SQL = await sqlite()
    const db: Database = new SQL.Database()
    let stmt: Statement | undefined
    try {
      registerOsqueryFunctions(db)
      db.run(createTable(table))
      // osquery runs one SELECT per scheduled query.
      if (!/^\s*SELECT\s/i.test(query))
        return fail('verify/parse', `not a SELECT statement: ${query.slice(0, 60)}`, rule)
      let count = 0
      try {
        for (const s of db.iterateStatements(query)) {
          count++
          s.free()
        }
        if (count !== 1) return fail('verify/parse', `expected one SQL statement, found ${count}`, rule)
        stmt = db.prepare(query)
        const unknown = functionsCalled(db, query.replace(/;\s*$/, '')).filter((f) => !OSQUERY_FUNCTIONS.has(f))
        if (unknown.length > 0)
          return fail(
            'verify/parse',
            `osquery (SQLite 3.42 with osquery's functions) has no function ${unknown.join(', ')}`,
            rule,
          )
      } catch (e) {
        return fail('verify/parse', `SQLite rejects the query: ${(e as Error).message}`, rule)
      }
      const fields = fieldsOf(rule.detection)
      const matches: boolean[] = []
      const unrepresentable: number[] = []
      const diagnostics: Diagnostic[] = []
      for (const [i, event] of events.entries()) {
        const row = mapEvent(env, ls, fields, event)
        if (row.inexact.length > 0) unrepresentable.push(i)
        if (row.inexact.length > 0)
          diagnostics.push({
            code: 'verify/inexact-event',
            severity: 'warning',
            message: `event ${i}: ${row.inexact.join(', ')} hold${row.inexact.length === 1 ? 's' : ''} a value an osquery ${ls.table} row cannot hold exactly (osquery columns hold one scalar); the verdict is for its closest row`,
            file: rule.file,
            at: rule.at,
            target: 'osquery',
          })
        db.run(`DELETE FROM ${quote(table.name)}`)
        const cols = Object.keys(row.values)
        if (cols.length > 0)
          db.run(
            `INSERT INTO ${quote(table.name)} (${cols.map(quote).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
            cols.map((c) => row.values[c] ?? null),
          )
        else db.run(`INSERT INTO ${quote(table.name)} DEFAULT VALUES`)
        try {
          stmt.reset()
          matches.push(stmt.step())
        } catch (e) {
          return fail('verify/runtime', `the query fails in SQLite on event ${i}: ${(e as Error).message}`, rule)
        }
      }
      return { matches, unrepresentable, diagnostics }
    } finally {
      stmt?.free()
      db.close()
    }
  },
}
