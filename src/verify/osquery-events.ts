/**
 * The osquery verifier's model of osquery's tables: which table an event of each origin becomes a
 * row of, with which fixed column values (process_events' `syscall`, es_process_events'
 * `event_type`, windows_events' `source` and `eventid` …), and how its fields become columns.
 * Written from osquery's table specs (https://osquery.io/schema/current), apart from the backend's
 * log-source map: test/conformance/landing.test.ts checks that the two agree on the rule pack.
 * Field names (Sigma field → column) are read from the target's field maps in
 * targets/osquery/target.yml (`match` and `fields` only: never a table, a condition or the path of
 * event data, which is EVENT_DATA below), and column types from targets/osquery/schema/*.yml.
 */
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import yaml from 'js-yaml'
import { ORIGIN_KEY, originOf, type Origin } from '../origin.js'
import { targetPath } from '../paths.js'
import type { JsonEvent, LogSource } from '../rule/rule.js'
import { isMap, pipelineLogSources, readPipeline } from './pipeline.js'
import {
  as4688Record,
  isSecurity4688,
  logSourceOfRecord,
  mostSpecific,
  place,
  SECURITY_4688,
  type WinRecord,
} from './winlog.js'
import { isOneOf, itemAt, mapOf } from '../guards.js'

export type ColumnType = 'TEXT' | 'INTEGER' | 'BIGINT' | 'DOUBLE' | 'DATETIME'
const COLUMN_TYPES: readonly ColumnType[] = ['TEXT', 'INTEGER', 'BIGINT', 'DOUBLE', 'DATETIME']

export interface Column {
  readonly type: ColumnType
  /** `collate="nocase"` in the spec: `=` and `IN` fold ASCII case on this column. */
  readonly nocase: boolean
}

export interface Table {
  readonly name: string
  readonly columns: ReadonlyMap<string, Column>
}

export interface OsqueryLanding {
  readonly table: string
  readonly constants: Readonly<Record<string, string | number>>
  readonly naming: LogSource
  /**
   * The event is a Security 4688 record (SECURITY_4688 in winlog.ts): it holds only some of a
   * process creation's fields, and in windows_events its data keys are 4688's own names.
   */
  readonly security4688?: true
}

/**
 * Activity by Sigma log source: process_events holds audit execve/execveat rows (and fork/clone:
 * specs/posix/process_events.table), es_process_events exec/fork/exit (specs/darwin/es_process_events.table),
 * process_etw_events ProcessStart/ProcessStop (specs/windows/process_etw_events.table), file_events
 * CREATED/UPDATED/DELETED… (specs/posix/file_events.table); the service tables are snapshots.
 */
const BY_LOGSOURCE: readonly {
  readonly match: Readonly<Record<string, string>>
  readonly table: string
  readonly constants: Readonly<Record<string, string | number>>
}[] = [
  {
    match: { product: 'linux', category: 'process_creation' },
    table: 'process_events',
    constants: { syscall: 'execve' },
  },
  {
    match: { product: 'macos', category: 'process_creation' },
    table: 'es_process_events',
    constants: { event_type: 'exec' },
  },
  {
    match: { product: 'windows', category: 'process_creation' },
    table: 'process_etw_events',
    constants: { type: 'ProcessStart' },
  },
  { match: { product: 'linux', category: 'file_event' }, table: 'file_events', constants: { action: 'CREATED' } },
  { match: { product: 'macos', category: 'file_event' }, table: 'file_events', constants: { action: 'CREATED' } },
  { match: { product: 'windows', category: 'service_state' }, table: 'services', constants: {} },
  { match: { product: 'linux', category: 'service_state' }, table: 'systemd_units', constants: {} },
  { match: { product: 'macos', category: 'service_state' }, table: 'launchd', constants: {} },
]

/**
 * Windows event-log records are rows of windows_events, the channel in `source`, the event id in
 * `eventid`, the provider in `provider_name` (specs/windows/windows_events.table), when osquery
 * subscribes to the channel. A record stated by its channel lands there; a Windows activity stated
 * only by its Sigma log source lands in the table for that activity when there is one, and also as
 * the Windows record that logs it (a process start is an ETW row and Sysmon's event 1 alike).
 */
export function landings(origin: Origin | undefined): OsqueryLanding[] {
  const p = place(origin)
  if (!p) return []
  const out: OsqueryLanding[] = []
  const security4688 = isSecurity4688(p.record) ? ({ security4688: true } as const) : {}
  if (origin?.kind !== 'winlog') {
    const hit = mostSpecific(BY_LOGSOURCE, p.logsource)
    if (hit) out.push({ table: hit.table, constants: hit.constants, naming: p.logsource })
  } else if (p.record && (isSecurity4688(p.record) || isSysmon1(p.record))) {
    // A process start logged by Sysmon or by Windows' process auditing is a process start all the
    // same: osquery's own ETW consumer (the Microsoft-Windows-Kernel-Process provider and the
    // kernel process provider, osquery/events/windows/etw/etw_publisher_processes.cpp) records
    // every process start, whatever the audit policy or Sysmon configuration logs.
    const hit = mostSpecific(BY_LOGSOURCE, PROCESS_CREATION)
    if (hit) out.push({ table: hit.table, constants: hit.constants, naming: PROCESS_CREATION, ...security4688 })
  }
  const r = p.record
  if (!r) return out
  out.push({
    table: 'windows_events',
    constants: {
      source: r.channel,
      ...(r.eventId !== undefined ? { eventid: r.eventId } : {}),
      ...(r.provider !== undefined ? { provider_name: r.provider } : {}),
    },
    // Field names of the channel's log source (windows_events rows look alike whatever the event);
    // a channel that is no Sigma service (PowerShell 7's PowerShellCore/Operational) is named by
    // the category its record is.
    naming: channelNaming(r),
    ...security4688,
  })
  return out
}

const PROCESS_CREATION: LogSource = { product: 'windows', category: 'process_creation' }
const isSysmon1 = (r: WinRecord): boolean =>
  r.channel.toLowerCase() === 'microsoft-windows-sysmon/operational' && r.eventId === 1

function channelNaming(r: WinRecord): LogSource {
  const byChannel = logSourceOfRecord({ channel: r.channel })
  if (byChannel.service !== undefined || r.eventId === undefined) return byChannel
  return logSourceOfRecord({ channel: r.channel, eventId: r.eventId })
}

/** The first place an event of this origin lands (its own activity's table before the event log). */
export function landing(origin: Origin | undefined): OsqueryLanding | undefined {
  return landings(origin)[0]
}

// --- field names and tables --------------------------------------------------------------------

interface Naming {
  readonly match: Readonly<Record<string, string>>
  readonly fields: Readonly<Record<string, string | null>>
}

export interface OsqueryModel {
  readonly tables: ReadonlyMap<string, Table>
  readonly fields: Readonly<Record<string, string | null>>
  readonly namings: readonly Naming[]
}

function nullableMap(v: unknown): Record<string, string | null> {
  const out: Record<string, string | null> = {}
  if (isMap(v)) for (const [k, x] of Object.entries(v)) if (typeof x === 'string' || x === null) out[k] = x
  return out
}

let tables: Map<string, Table> | undefined
let shipped: Record<string, unknown> | undefined
const models = new Map<string, OsqueryModel | string>()

function readTables(): Map<string, Table> {
  const dir = targetPath('osquery', 'schema')
  const out = new Map<string, Table>()
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.yml'))
    .sort()) {
    const doc = mapOf(yaml.load(readFileSync(join(dir, file), 'utf8')), file)
    const columns = new Map<string, Column>()
    for (const [name, spec] of Object.entries(mapOf(doc['columns'], `${file}: columns`))) {
      const { type, collate } = mapOf(spec, `${file}: ${name}`)
      if (!isOneOf(COLUMN_TYPES, type))
        throw new Error(`rulesmith: ${file}: ${name} has no column type the verifier models`)
      columns.set(name, { type, nocase: collate === 'nocase' })
    }
    const table = doc['table']
    if (typeof table !== 'string') throw new Error(`rulesmith: ${file} names no table`)
    out.set(table, { name: table, columns })
  }
  return out
}

export function osqueryModel(pipeline?: string): OsqueryModel | string {
  const key = pipeline ?? ''
  let m = models.get(key)
  if (m === undefined) {
    tables ??= readTables()
    shipped ??= mapOf(yaml.load(readFileSync(targetPath('osquery', 'target.yml'), 'utf8')), 'target.yml')
    const user = pipeline !== undefined ? readPipeline(pipeline) : {}
    if (typeof user === 'string') m = user
    else {
      const namings = new Map<string, Naming>()
      for (const doc of [shipped, user])
        for (const { name, match, entry } of pipelineLogSources(doc)) {
          namings.set(name, { match, fields: nullableMap(entry['fields']) })
        }
      m = {
        tables,
        fields: { ...nullableMap(shipped['fields']), ...nullableMap(user['fields']) },
        namings: [...namings.values()],
      }
    }
    models.set(key, m)
  }
  return m
}

/**
 * windows_events' `data` column: the record's named EventData values as a JSON object under `Data`,
 * `{"Data":{"NewProcessName":"C:\\Windows\\System32\\lsass.exe",…}}`, whatever the event's
 * channel (parseWindowsEventLogPTree in osquery/events/windows/windowseventlogparser.cpp:
 * `property_list.add_child("Data", event_data)`; osquery's expected row for a Security 4688,
 * osquery/tables/events/tests/windows/data/windows_events/output/Security/4688.json). The
 * verifier writes it so itself: a query reading another path (the `EventData` object osquery
 * wrote before its event-log parser was rewritten) reads nothing.
 */
const EVENT_DATA = { table: 'windows_events', column: 'data', key: 'Data' } as const

/**
 * The classic "Windows PowerShell" log writes its EventData values without names
 * (`<Data>Available</Data><Data>None</Data><Data>NewEngineState=…</Data>`), and osquery writes
 * unnamed values as a JSON array under Data (parseWindowsEventLogPTree's `as_array`): a
 * `$.Data.<Name>` path reads nothing there.
 */
const UNNAMED_DATA_CHANNEL = 'Windows PowerShell'

/** One row, ready to insert into `table`, and the fields it could not hold exactly. */
export interface PlacedRow {
  readonly table: string
  readonly values: Readonly<Record<string, string | number | null>>
  /** Sigma fields whose event value has no exact osquery representation (arrays, objects, …). */
  readonly inexact: readonly string[]
  /** For a Security 4688 record: the first field the event states that no 4688 record holds. */
  readonly lacks?: string
  /**
   * For a Security 4688 record: the columns of the row whose value the record decides (its fixed
   * columns and those of the fields it holds); any other column of `table` holds a value of the
   * process the record does not say (process_etw_events' pid, username …). Undefined: every column.
   */
  readonly known?: ReadonlySet<string>
}

const JSON_KEY = /^[A-Za-z0-9_.\- ]+$/
const isIntegerType = (t: ColumnType): boolean => t === 'INTEGER' || t === 'BIGINT'

/** Text as it is logged: strings as they are, numbers and booleans as their JSON text. */
const asText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v))

/** Every name an event's value can be read under: its keys, then dotted paths into nested objects. */
function names(event: JsonEvent): [string, unknown][] {
  const out: [string, unknown][] = []
  const seen = new Set<string>()
  const queue: [string, unknown][] = Object.entries(event).filter(([k]) => k !== ORIGIN_KEY)
  for (let i = 0; i < queue.length; i++) {
    const [name, v] = itemAt(queue, i)
    if (seen.has(name)) continue
    seen.add(name)
    out.push([name, v])
    if (isMap(v)) for (const [k, x] of Object.entries(v)) if (!k.includes('.')) queue.push([`${name}.${k}`, x])
  }
  return out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

/**
 * The row osquery would hold for an event where it lands: the landing's fixed columns, then each
 * field at its column (the log source's map, else the default map when the table has that column,
 * else a key of the JSON data column). osquery columns hold one scalar: integer columns take
 * integers and canonical integer strings, TEXT columns the value's text; anything else is inexact.
 * Windows event data is text in osquery, so every JSON value is stored as its text. One row per
 * table the event lands in; none when it lands nowhere.
 */
export function placeRows(model: OsqueryModel, event: JsonEvent): PlacedRow[] {
  return landings(originOf(event)).flatMap((land) => placeIn(model, land, event) ?? [])
}

function placeIn(model: OsqueryModel, land: OsqueryLanding, stated: JsonEvent): PlacedRow | undefined {
  const table = model.tables.get(land.table)
  if (!table) return undefined
  let event = stated
  let lacks: string | undefined
  if (land.security4688) {
    const r = as4688Record(stated, ORIGIN_KEY)
    if ('lacks' in r) lacks = r.lacks
    // In the event log the record's data keys are its own names; a table of the activity
    // (process_etw_events) is named by Sigma's.
    else if (land.table === 'windows_events') event = r.event
  }
  const naming = mostSpecific(model.namings, land.naming)
  const own = naming?.fields ?? {}
  // A row of an event-log table: every field that is not a column is event data.
  const eventData = land.table === EVENT_DATA.table ? EVENT_DATA : undefined
  const values: Record<string, string | number | null> = {}
  const inexact: string[] = []
  const data: Record<string, string | null> = {}
  let hasData = false
  // Columns the event speaks for itself, even as null: the landing does not overwrite them.
  const spoken = new Set<string>()
  const columnOf = (field: string): string | null | undefined => {
    const o = Object.prototype.hasOwnProperty.call(own, field) ? own[field] : undefined
    const d = Object.prototype.hasOwnProperty.call(model.fields, field) ? model.fields[field] : undefined
    return o !== undefined ? o : d !== undefined && d !== null && table.columns.has(d) ? d : undefined
  }
  for (const [field, v] of names(event)) {
    const o = Object.prototype.hasOwnProperty.call(own, field) ? own[field] : undefined
    const column = columnOf(field)
    if (column) {
      const c = table.columns.get(column)
      if (!c || v === undefined) continue
      spoken.add(column)
      if (v === null) continue
      if (typeof v === 'object') inexact.push(field)
      if (isIntegerType(c.type)) {
        if (typeof v === 'number' && Number.isSafeInteger(v)) values[column] = v
        else if (typeof v === 'string' && /^-?(0|[1-9][0-9]{0,15})$/.test(v) && Number.isSafeInteger(Number(v)))
          values[column] = Number(v)
        else {
          if (typeof v !== 'object') inexact.push(field)
          values[column] = asText(v)
        }
      } else if (c.type === 'DOUBLE') {
        if (typeof v === 'number') values[column] = v
        else {
          if (typeof v !== 'object') inexact.push(field)
          values[column] = asText(v)
        }
      } else {
        // osquery fills text columns from C strings: a NUL ends the value, so no row holds one.
        if (typeof v === 'string' && v.includes('\u0000')) inexact.push(field)
        values[column] = asText(v)
      }
      continue
    }
    if (o === null || !eventData || !JSON_KEY.test(field) || v === undefined) continue
    hasData = true
    if (v !== null && typeof v === 'object') inexact.push(field)
    // Windows event data values are NUL-terminated strings (EvtRender): none holds a NUL.
    else if (typeof v === 'string' && v.includes('\u0000')) inexact.push(field)
    data[field] = v === null ? null : asText(v)
  }
  if (eventData && hasData)
    // The classic PowerShell log's values have no names: osquery writes them as an array.
    values[eventData.column] = JSON.stringify({
      [eventData.key]:
        String(land.constants['source']).toLowerCase() === UNNAMED_DATA_CHANNEL.toLowerCase()
          ? Object.values(data)
          : data,
    })
  for (const [c, v] of Object.entries(land.constants)) if (table.columns.has(c) && !spoken.has(c)) values[c] = v
  if (!land.security4688) return { table: land.table, values, inexact }
  // The row's columns a 4688 record decides: the fixed ones, the data column (whose keys the
  // verifier checks by name), and those its fields map to.
  const known = new Set([...Object.keys(land.constants), ...(eventData ? [eventData.column] : [])])
  for (const field of [...SECURITY_4688.data, ...SECURITY_4688.system, ...Object.keys(SECURITY_4688.renamed)]) {
    const column = columnOf(field)
    if (column) known.add(column)
  }
  return { table: land.table, values, inexact, known, ...(lacks !== undefined ? { lacks } : {}) }
}

/** The event's first row (its own activity's table before the event log), or undefined. */
export function placeRow(model: OsqueryModel, event: JsonEvent): PlacedRow | undefined {
  return placeRows(model, event)[0]
}
