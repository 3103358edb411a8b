/**
 * The osquery backend's environment: log source → osquery table, fixed row conditions, field →
 * column (or JSON path), the table schemas, a user's pipeline merged over the shipped
 * `targets/osquery/target.yml`. The verifiers place events with their own model
 * (src/verify/osquery-events.ts).
 */
import { readdirSync } from 'node:fs'
import type { Diagnostic } from '../diagnostics.js'
import type { LogSource } from '../rule/rule.js'
import { targetPath } from '../paths.js'
import { environmentLoader, readShipped, resolveLogSource as resolveMostSpecific } from './environment.js'
import { mustGet } from '../guards.js'

/** osquery's column types (specs/*.table); SQLite reads them as declared types, so affinity follows. */
export type ColumnType = 'TEXT' | 'INTEGER' | 'BIGINT' | 'DOUBLE' | 'DATETIME'

export interface Column {
  readonly type: ColumnType
  /** `collate="nocase"` in the spec: `=` and `IN` fold ASCII case on this column. */
  readonly nocase: boolean
}

export interface Table {
  readonly name: string
  readonly platforms: readonly string[]
  readonly evented: boolean
  readonly columns: ReadonlyMap<string, Column>
}

export type Scalar = string | number

export interface LogSourceEntry {
  readonly name: string
  readonly match: Readonly<Record<string, string>>
  readonly table: string
  readonly platform: string
  readonly conditions: Readonly<Record<string, Scalar | readonly Scalar[]>>
  readonly data?: { readonly column: string; readonly path: string }
  /** Sigma field → column; `null` hides a default. */
  readonly fields: Readonly<Record<string, string | null>>
  readonly interval: number
  /** Another log source, tried when a rule names a field this table has no column for. */
  readonly fallback?: string
  /**
   * Other records of the same activity in the same table (Security 4688 beside Sysmon's event 1),
   * each searched too when every field the rule reads is one it records (`records`).
   */
  readonly also: readonly LogSourceEntry[]
  /**
   * For an `also` record: Sigma field → key of the data object (the record's own name), and with
   * `fields` every field it records: no default column and no other data key stands for a field.
   */
  readonly keys?: Readonly<Record<string, string>>
}

/** Whether a log source's record holds every one of these fields (always, for a log source that is not an `also` record). */
export function records(ls: LogSourceEntry, fields: Iterable<string>): boolean {
  const keys = ls.keys
  if (!keys) return true
  for (const f of fields)
    if (!Object.prototype.hasOwnProperty.call(keys, f) && typeof ls.fields[f] !== 'string') return false
  return true
}

export interface Env {
  readonly fields: Readonly<Record<string, string | null>>
  readonly logsources: readonly LogSourceEntry[]
  readonly tables: ReadonlyMap<string, Table>
}

/** Where a Sigma field lives in a row. */
export type FieldPlace =
  | { readonly kind: 'column'; readonly column: string; readonly type: ColumnType; readonly nocase: boolean }
  /** A key of a JSON object held in a TEXT column (Windows EventData). */
  | { readonly kind: 'json'; readonly column: string; readonly path: string; readonly key: string }

/** targets/osquery/target.yml and an osquery pipeline, as target.schema.json checks them. */
interface OsqueryDoc {
  fields?: Record<string, string | null> | null
  logsources?: Record<
    string,
    {
      match: Record<string, string | number | boolean>
      table: string
      platform?: string
      conditions?: Record<string, Scalar | Scalar[]>
      data?: { column: string; path: string }
      fields?: Record<string, string | null> | null
      interval?: number
      fallback?: string
      also?: {
        conditions: Record<string, Scalar | Scalar[]>
        fields?: Record<string, string> | null
        keys?: Record<string, string> | null
      }[]
    }
  > | null
}

interface TableDoc {
  table: string
  platforms?: string[]
  evented?: boolean
  columns: Record<string, { type: ColumnType; collate?: 'nocase' }>
}

let tables: Map<string, Table> | undefined

function loadTables(): Map<string, Table> {
  if (tables) return tables
  tables = new Map()
  for (const file of readdirSync(targetPath('osquery', 'schema'))
    .filter((f) => f.endsWith('.yml'))
    .sort()) {
    const r = readShipped<TableDoc>('osquery', `schema/${file}`, 'table')
    if (!r.doc) throw new Error(`rulesmith: ${r.problem}`)
    const columns = new Map<string, Column>()
    for (const [name, spec] of Object.entries(r.doc.columns))
      columns.set(name, { type: spec.type, nocase: spec.collate === 'nocase' })
    tables.set(r.doc.table, {
      name: r.doc.table,
      platforms: r.doc.platforms ?? [],
      evented: r.doc.evented === true,
      columns,
    })
  }
  return tables
}

function build(doc: OsqueryDoc): Env | string {
  const tables = loadTables()
  const logsources = Object.entries(doc.logsources ?? {}).map(([name, raw]): LogSourceEntry => {
    const base = {
      match: Object.fromEntries(Object.entries(raw.match).map(([k, v]) => [k, String(v)])),
      table: raw.table,
      platform: raw.platform ?? 'all',
      ...(raw.data ? { data: raw.data } : {}),
      interval: raw.interval ?? 60,
    }
    return {
      ...base,
      name,
      conditions: raw.conditions ?? {},
      fields: raw.fields ?? {},
      ...(raw.fallback !== undefined ? { fallback: raw.fallback } : {}),
      // An `also` record is in the same table, under the same data column, with its own conditions.
      also: (raw.also ?? []).map((a, i) => ({
        ...base,
        name: `${name}#${i + 1}`,
        conditions: a.conditions,
        fields: a.fields ?? {},
        keys: a.keys ?? {},
        also: [],
      })),
    }
  })
  for (const ls of logsources.flatMap((l) => [l, ...l.also])) {
    const table = tables.get(ls.table)
    if (!table)
      return `log source '${ls.name}' names table '${ls.table}', which osquery does not have (see targets/osquery/schema/)`
    const named = Object.values(ls.fields).filter((c): c is string => c !== null)
    for (const c of [...Object.keys(ls.conditions), ...(ls.data ? [ls.data.column] : []), ...named])
      if (!table.columns.has(c)) return `log source '${ls.name}': table ${ls.table} has no column '${c}'`
    if (ls.fallback !== undefined && !logsources.some((o) => o.name === ls.fallback && o.fallback === undefined))
      return `log source '${ls.name}': its fallback '${ls.fallback}' is not a log source without a fallback of its own`
    if (ls.keys && Object.keys(ls.keys).length > 0 && !ls.data)
      return `log source '${ls.name}': keys name a data object, but the log source has no data column`
  }
  return { fields: doc.fields ?? {}, logsources, tables }
}

const load = environmentLoader<OsqueryDoc, Env>('osquery', build)

/** The environment, loaded once (and once per pipeline file). */
export function loadEnv(pipeline?: string): { env?: Env; error?: string } {
  const r = load(pipeline)
  return r.env ? { env: r.env } : { error: r.problem }
}

/** The most specific log source whose every `match` key equals the rule's (case-insensitive). */
export function resolveLogSource(env: Env, logsource: LogSource): LogSourceEntry | undefined {
  return resolveMostSpecific(env.logsources, logsource)
}

const JSON_KEY = /^[A-Za-z0-9_.\- ]+$/

/**
 * Where a Sigma field lives for this log source: the log source's own map, else the default map
 * when the table has that column, else a key of the JSON data column; undefined when nowhere.
 */
export function placeOf(env: Env, ls: LogSourceEntry, field: string): FieldPlace | undefined {
  const table = mustGet(env.tables, ls.table)
  if (ls.keys) return recordPlace(table, ls, ls.keys, field)
  const own = Object.prototype.hasOwnProperty.call(ls.fields, field) ? ls.fields[field] : undefined
  const dflt = Object.prototype.hasOwnProperty.call(env.fields, field) ? env.fields[field] : undefined
  const column =
    own !== undefined ? own : dflt !== undefined && dflt !== null && table.columns.has(dflt) ? dflt : undefined
  if (column) {
    const c = table.columns.get(column)
    return c ? { kind: 'column', column, type: c.type, nocase: c.nocase } : undefined
  }
  if (own === null) return undefined
  // SQLite JSON paths quote a key with double quotes; keep keys to the characters Windows event
  // data names use. https://sqlite.org/json1.html#path_arguments
  if (ls.data && JSON_KEY.test(field)) {
    const key = /^[A-Za-z_][A-Za-z0-9_]*$/.test(field) ? field : `"${field}"`
    return { kind: 'json', column: ls.data.column, path: `${ls.data.path}.${key}`, key: field }
  }
  return undefined
}

/** Where a field lives in an `also` record: its column, else its key of the data object; nowhere else. */
function recordPlace(
  table: Table,
  ls: LogSourceEntry,
  keys: Readonly<Record<string, string>>,
  field: string,
): FieldPlace | undefined {
  const column = Object.prototype.hasOwnProperty.call(ls.fields, field) ? ls.fields[field] : undefined
  if (typeof column === 'string') {
    const c = table.columns.get(column)
    return c ? { kind: 'column', column, type: c.type, nocase: c.nocase } : undefined
  }
  const key = Object.prototype.hasOwnProperty.call(keys, field) ? keys[field] : undefined
  if (key === undefined || !ls.data) return undefined
  return { kind: 'json', column: ls.data.column, path: `${ls.data.path}.${key}`, key }
}

export const isIntegerType = (t: ColumnType): boolean => t === 'INTEGER' || t === 'BIGINT'

/** A diagnostic about the environment itself (bad pipeline file). */
export function envDiagnostic(message: string, target: string, file?: string): Diagnostic {
  return { code: 'config/pipeline', severity: 'error', message, target, ...(file ? { file } : {}) }
}
