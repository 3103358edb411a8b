/**
 * The osquery verifier: runs SQL text in a real SQLite (sql.js) over osquery's tables (declared
 * types and NOCASE collations from targets/osquery/schema), with osquery's own SQL functions
 * registered, one event at a time: the event is the only row, in the table its origin lands in
 * (src/verify/osquery-events.ts). SQLite itself parses the text, so a query osquery's SQLite would
 * reject is rejected here too. Nothing is shared with the backend.
 */
import type { Database, SqlJsStatic, Statement } from 'sql.js'
import type { Diagnostic, DiagnosticCode } from '../diagnostics.js'
import type { JsonEvent } from '../rule/rule.js'
import type { TargetOptions } from '../target-ids.js'
import { osqueryModel, placeRows, type PlacedRow, type Table } from './osquery-events.js'
import { SECURITY_4688 } from './winlog.js'
import { registerOsqueryFunctions } from './osquery-udf.js'
import type { LeftOut, Verified, Verifier } from './types.js'
import { errorMessage, first, must } from '../guards.js'

let engine: Promise<SqlJsStatic> | undefined

/** sql.js (SQLite compiled to WebAssembly), loaded on first use. */
export function sqlite(): Promise<SqlJsStatic> {
  engine ??= import('sql.js').then((m) => m.default())
  return engine
}

/** The SQLite version the verifier runs (osquery bundles 3.42; LIKE/GLOB/collation rules are unchanged since). */
export async function sqliteVersion(): Promise<string> {
  const db = new (await sqlite()).Database()
  try {
    return String(first(must(db.exec('SELECT sqlite_version()')[0], 'SELECT returns one result').values)[0])
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
    if (m && /Func|Agg/.test(String(row[1]))) out.add(must(m[1], 'the group matched').toLowerCase())
  }
  return [...out].sort()
}

let shared: Promise<Database> | undefined

/**
 * One database for every run: osquery's tables (all of them, since a query may name any) and
 * functions, created once. Each run inserts one row at a time and leaves the tables empty.
 */
function database(tables: ReadonlyMap<string, Table>): Promise<Database> {
  shared ??= sqlite().then((SQL) => {
    const db = new SQL.Database()
    registerOsqueryFunctions(db)
    for (const table of tables.values()) db.run(createTable(table))
    return db
  })
  return shared
}

const fail = (code: DiagnosticCode, message: string): Verified => ({
  diagnostics: [{ code, severity: 'error', message, target: 'osquery' }],
})

/**
 * The names a query reads: every identifier outside strings and comments (a superset of the
 * columns it reads), and the keys of every JSON path `'$.Data.<key>'` (windows_events' event data) it passes to json_extract.
 */
function namesRead(query: string): { readonly words: ReadonlySet<string>; readonly keys: ReadonlySet<string> } {
  const keys = new Set<string>()
  for (const m of query.matchAll(/'\$\.Data\.(?:"((?:[^"']|'')+)"|([A-Za-z_][A-Za-z0-9_]*))'/g))
    keys.add((m[1] ?? must(m[2], 'one of the groups matched')).replace(/''/g, "'"))
  const code = query.replace(/--[^\n]*|\/\*[\s\S]*?\*\/|'(?:[^']|'')*'/g, ' ')
  const words = new Set<string>()
  for (const m of code.matchAll(/"((?:[^"]|"")+)"|[A-Za-z_][A-Za-z0-9_]*/g))
    words.add(m[1]?.replace(/""/g, '"') ?? m[0])
  return { words, keys }
}

/**
 * Why a Security 4688 record's row cannot be judged by the query: it reads a column whose value the
 * record does not decide, or a data key of a Sysmon field the record has no counterpart for.
 */
function unknownIn4688(row: PlacedRow, table: Table, read: ReturnType<typeof namesRead>): string | undefined {
  const known = row.known
  if (!known) return undefined
  const column = [...read.words].find((w) => table.columns.has(w) && !known.has(w))
  if (column !== undefined)
    return `the query reads ${row.table}.${column}, which a Security 4688 record does not decide`
  const key = [...read.keys].find((k) => SECURITY_4688.unknown.has(k))
  return key !== undefined ? `the query reads ${key}, which a Security 4688 record does not hold` : undefined
}

/** The tables a SELECT names after FROM or JOIN (osquery's names are plain words). */
function tablesRead(query: string): Set<string> {
  const out = new Set<string>()
  const code = query.replace(/--[^\n]*|\/\*[\s\S]*?\*\/|'(?:[^']|'')*'/g, ' ')
  for (const m of code.matchAll(/\b(?:FROM|JOIN)\s+"?([A-Za-z_][A-Za-z0-9_]*)"?/gi))
    out.add(must(m[1], 'the group matched'))
  return out
}

export const verifier: Verifier = {
  id: 'osquery',
  async verify(query: string, events: readonly JsonEvent[], options?: TargetOptions): Promise<Verified> {
    const model = osqueryModel(options?.pipeline)
    if (typeof model === 'string') return fail('config/pipeline', model)
    const db = await database(model.tables)
    let stmt: Statement | undefined
    let filled: string | undefined
    try {
      // osquery runs one SELECT per scheduled query (SQL comments may come first: https://sqlite.org/lang_comment.html).
      if (!/^(?:\s+|--[^\n]*(?:\n|$)|\/\*[^]*?\*\/)*SELECT\s/i.test(query))
        return fail('verify/parse', `not a SELECT statement: ${query.slice(0, 60)}`)
      let count = 0
      try {
        for (const s of db.iterateStatements(query)) {
          count++
          s.free()
        }
        if (count !== 1) return fail('verify/parse', `expected one SQL statement, found ${count}`)
        stmt = db.prepare(query)
        const unknown = functionsCalled(db, query.replace(/;\s*$/, '')).filter((f) => !OSQUERY_FUNCTIONS.has(f))
        if (unknown.length > 0)
          return fail(
            'verify/parse',
            `osquery (SQLite 3.42 with osquery's functions) has no function ${unknown.join(', ')}`,
          )
      } catch (e) {
        return fail('verify/parse', `SQLite rejects the query: ${errorMessage(e)}`)
      }
      const matches: boolean[] = []
      const unrepresentable: number[] = []
      const leftOut: LeftOut[] = []
      const diagnostics: Diagnostic[] = []
      const reads = tablesRead(query)
      const read = namesRead(query)
      for (const [i, event] of events.entries()) {
        if (filled !== undefined) db.run(`DELETE FROM ${quote(filled)}`)
        filled = undefined
        // The event's row in a table the query reads (an event may land in more than one table).
        const rows = placeRows(model, event)
        const row = rows.find((r) => reads.has(r.table)) ?? rows[0]
        if (!row) leftOut.push({ index: i, reason: 'lands in no osquery table' })
        else if (!reads.has(row.table))
          leftOut.push({ index: i, reason: `lands in ${row.table}, the query reads ${[...reads].sort().join(', ')}` })
        if (row) {
          const table = must(model.tables.get(row.table), 'a row is placed only in a table of the model')
          // A Security 4688 record the query cannot judge (SECURITY_4688 in winlog.ts).
          const why = !reads.has(row.table)
            ? undefined
            : row.lacks !== undefined
              ? `a Security 4688 record holds no ${row.lacks}`
              : unknownIn4688(row, table, read)
          if (why !== undefined) {
            unrepresentable.push(i)
            leftOut.push({ index: i, reason: why })
          } else if (row.inexact.length > 0) {
            unrepresentable.push(i)
            leftOut.push({ index: i, reason: `no ${row.table} row holds ${row.inexact.join(', ')} exactly` })
            diagnostics.push({
              code: 'verify/inexact-event',
              severity: 'warning',
              message: `event ${i}: ${row.inexact.join(', ')} hold${row.inexact.length === 1 ? 's' : ''} a value an osquery ${row.table} row cannot hold exactly (osquery columns hold one scalar); the verdict is for its closest row`,
              target: 'osquery',
            })
          }
          const cols = Object.keys(row.values)
          if (cols.length > 0)
            db.run(
              `INSERT INTO ${quote(row.table)} (${cols.map(quote).join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`,
              cols.map((c) => row.values[c] ?? null),
            )
          else db.run(`INSERT INTO ${quote(row.table)} DEFAULT VALUES`)
          filled = row.table
        }
        // An event that lands nowhere leaves every table empty: the query returns no row for it.
        try {
          stmt.reset()
          matches.push(stmt.step())
        } catch (e) {
          return fail('verify/runtime', `the query fails in SQLite on event ${i}: ${errorMessage(e)}`)
        }
      }
      return { matches, unrepresentable, leftOut, diagnostics }
    } finally {
      stmt?.free()
      // The database is reused: leave every table empty.
      if (filled !== undefined) db.run(`DELETE FROM ${quote(filled)}`)
    }
  },
}
