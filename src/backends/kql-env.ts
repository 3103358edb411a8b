/**
 * The kql backend's environment: the schema family (Defender XDR or Sentinel), log source → table,
 * Sigma field → column. Data lives in targets/kql/. The verifiers place events with their own model
 * (src/verify/kql-events.ts).
 */
import type { LogSource } from '../rule/rule.js'
import type { TargetOptions } from './types.js'
import { entryOf, first, textAt } from '../guards.js'
import {
  mergePipeline,
  readEnvironmentFile,
  readShipped,
  resolveLogSource as resolveMostSpecific,
} from './environment.js'

export type ConditionValue = string | number | readonly (string | number)[]

/** Kusto scalar types a column may have (schema/<variant>.yml). */
export type ColumnType = 'string' | 'long' | 'int' | 'bool' | 'datetime' | 'dynamic' | 'real' | 'guid' | 'timespan'

/** How one Sigma field lands in the table. */
export interface FieldSpec {
  readonly column: string
  /** Paths: a second column holding the text after the last `separator` in the value ("" when none). */
  readonly name?: string
  /** The path separator `name` splits on: one character without case, `\` unless given (`/` on Linux and macOS). */
  readonly separator?: string
  /** Why the rename is not exact in real data (compiles with a warning). */
  readonly note?: string
  /** The field is this key of the column, a dynamic bag (DeviceEvents' AdditionalFields.ThreatName). */
  readonly key?: string
}

/**
 * Fields kept as keys of one column rather than as columns of their own: WindowsEvent's `EventData`
 * (a dynamic bag of the record's data fields) or AWSCloudTrail's `RequestParameters` (the JSON text
 * of CloudTrail's requestParameters object). `prefix` is the Sigma field's leading path (`""`: any
 * field the field map does not name), `column` the column holding the bag.
 */
export interface BagSpec {
  readonly prefix: string
  readonly column: string
}

export interface LogSourceEntry {
  readonly name: string
  readonly match: Readonly<Record<string, string>>
  readonly table: string
  /** Column constants; a list means the column holds one of the values (`in`). */
  readonly conditions: Readonly<Record<string, ConditionValue>>
  /**
   * Condition columns whose value the record states itself (WindowsEvent's Channel and EventID: a
   * Sigma event's own Channel is the row's), so a rule may test them next to the constant. Every
   * other condition column is decided by the kind of record and a rule's test of it is refused.
   */
  readonly stated: readonly string[]
  /**
   * The columns a keyword searches: every column that holds a value of the record, for a log source
   * whose records have no other fields (Syslog's lines). Absent: keywords are refused.
   */
  readonly keywords?: readonly string[]
  /**
   * String columns whose value, when the record has the field, is never empty (CloudTrail's
   * errorCode): there "" stands for a missing field only, so null and exists can be said.
   */
  readonly nonempty: readonly string[]
  readonly entity?: string
  readonly fields: Readonly<Record<string, FieldSpec>>
  /** Fields read as keys of a bag column, longest prefix first. */
  readonly bags: readonly BagSpec[]
  /** Position in the family's target.yml: among equally specific entries, the earlier is tried first. */
  readonly order: number
  /**
   * Other records of the same activity in the same table (Security 4688 beside Sysmon's event 1 in
   * WindowsEvent), each searched too when every field the rule reads is one it records (`records`).
   */
  readonly also: readonly LogSourceEntry[]
  /**
   * For an `also` record: Sigma field → key of the `*` bag (the record's own name), and with
   * `fields` every field it records: no other column or key stands for a field.
   */
  readonly keys?: Readonly<Record<string, string>>
}

/** Whether a log source's record holds every one of these fields (always, for a log source that is not an `also` record). */
export function records(ls: LogSourceEntry, fields: Iterable<string>): boolean {
  const keys = ls.keys
  if (!keys) return true
  for (const f of fields)
    if (!Object.prototype.hasOwnProperty.call(keys, f) && !Object.prototype.hasOwnProperty.call(ls.fields, f))
      return false
  return true
}

export interface KqlEnv {
  readonly variant: string
  readonly fields: Readonly<Record<string, FieldSpec>>
  readonly logsources: readonly LogSourceEntry[]
  /** table → column → type */
  readonly tables: Readonly<Record<string, Readonly<Record<string, ColumnType>>>>
}

/** A field resolved for one log source: its column(s) and their types. */
export interface ResolvedField {
  readonly sigma: string
  readonly column: string
  readonly type: ColumnType
  readonly name?: string
  /** The separator `name` splits on (always set when `name` is). */
  readonly separator?: string
  readonly note?: string
  /** A key path inside the column (a bag): the column is `dynamic`, or a string holding JSON text. */
  readonly path?: readonly string[]
  /** With `path`: the column is a string of JSON text, read through parse_json(). */
  readonly json?: boolean
}

export type EnvResult = { env: KqlEnv; error?: undefined } | { env?: undefined; error: string }

/** A field map entry as target.schema.json admits it; `fieldSpec` adds the checks that need code. */
type RawFieldSpec = string | { column: string; name?: string; separator?: unknown; note?: string; key?: string }
interface RawLogSource {
  match: Record<string, string | number | boolean>
  table: string
  conditions?: Record<string, ConditionValue>
  stated?: string[]
  keywords?: string[]
  nonempty?: string[]
  entity?: string
  fields?: Record<string, RawFieldSpec> | null
  bags?: Record<string, string>
  also?: {
    conditions: Record<string, ConditionValue>
    fields?: Record<string, RawFieldSpec> | null
    keys?: Record<string, string>
  }[]
}
/** One schema family of targets/kql/target.yml, or a kql pipeline (which may name its family). */
interface RawVariant {
  variant?: string
  fields?: Record<string, RawFieldSpec> | null
  logsources?: Record<string, RawLogSource> | null
}
interface RawTarget {
  default_variant: string
  variants: Record<string, RawVariant>
}

const envs = new Map<string, EnvResult>()

function shippedTarget(): RawTarget {
  const r = readShipped<RawTarget>('kql')
  if (!r.doc) throw new Error(`rulesmith: ${r.problem}`)
  return r.doc
}

/** The schema families the target ships (`asim`, `defender`, `sentinel`). */
export function variants(): string[] {
  return Object.keys(shippedTarget().variants).sort()
}

/**
 * The families a `variant` option names: one name, or a comma-separated list
 * (`defender,sentinel`), in the order target.yml declares them — the order a rule tries them in,
 * so Defender's Device* tables come first where Defender has the data. A string when a name is unknown.
 */
export function familiesOf(variant: string | undefined): string[] | string {
  const declared = Object.keys(shippedTarget().variants)
  if (variant === undefined) return [defaultVariant()]
  const named = variant
    .split(',')
    .map((v) => v.trim())
    .filter((v) => v !== '')
  if (named.length === 0) return `kql: --variant names no schema family (known: ${variants().join(', ')})`
  for (const v of named)
    if (!declared.includes(v)) return `kql has no schema family "${v}" (known: ${variants().join(', ')})`
  return declared.filter((v) => named.includes(v))
}

export function defaultVariant(): string {
  return shippedTarget().default_variant
}

function schemaOf(variant: string): Record<string, Record<string, ColumnType>> {
  const r = readShipped<{ tables: Record<string, Record<string, ColumnType>> }>(
    'kql',
    `schema/${variant}.yml`,
    'tables',
  )
  if (!r.doc) throw new Error(`rulesmith: ${r.problem}`)
  return r.doc.tables
}

/** The separator a `{ column, name }` entry splits on when it names none: Windows paths. */
export const DEFAULT_SEPARATOR = '\\'

/**
 * One field map value, or a reason it is malformed. A separator is one character without case
 * (`\`, `/`): the backend's "endswith <sep><name> is the name column" rewrite relies on a match of
 * one caseless character never overlapping the name after it.
 */
function fieldSpec(v: RawFieldSpec): FieldSpec | string {
  if (typeof v === 'string') return { column: v }
  if (v.key !== undefined && v.name !== undefined) return 'a key of a bag has no file name column'
  if (v.separator !== undefined) {
    if (v.name === undefined) return 'separator is only meaningful with name'
    if (
      typeof v.separator !== 'string' ||
      [...v.separator].length !== 1 ||
      v.separator.toLowerCase() !== v.separator.toUpperCase()
    ) {
      return `separator must be one character without case, such as \\ or /, not ${JSON.stringify(v.separator)}`
    }
  }
  return {
    column: v.column,
    ...(v.name !== undefined
      ? { name: v.name, separator: typeof v.separator === 'string' ? v.separator : DEFAULT_SEPARATOR }
      : {}),
    ...(v.note !== undefined ? { note: v.note } : {}),
    ...(v.key !== undefined ? { key: v.key } : {}),
  }
}

function fieldMap(
  raw: Record<string, RawFieldSpec> | null | undefined,
  where: string,
): Record<string, FieldSpec> | string {
  const out: Record<string, FieldSpec> = {}
  for (const [k, v] of Object.entries(raw ?? {})) {
    const spec = fieldSpec(v)
    if (typeof spec === 'string') return `${where}: field ${k}: ${spec}`
    out[k] = spec
  }
  return out
}

function logsource(name: string, raw: RawLogSource, where: string, order: number): LogSourceEntry | string {
  const fields = fieldMap(raw.fields, `${where}: log source ${name}`)
  if (typeof fields === 'string') return fields
  const bags = Object.entries(raw.bags ?? {})
    .map(([prefix, column]) => ({ prefix: prefix === '*' ? '' : prefix, column }))
    .sort((a, b) => b.prefix.length - a.prefix.length)
  const base = {
    match: Object.fromEntries(Object.entries(raw.match).map(([k, v]) => [k, String(v)])),
    table: raw.table,
    // The record's own columns (WindowsEvent's Channel, EventID) are the table's, for an `also` record too.
    stated: raw.stated ?? [],
    nonempty: raw.nonempty ?? [],
    ...(raw.keywords !== undefined ? { keywords: raw.keywords } : {}),
    ...(raw.entity !== undefined ? { entity: raw.entity } : {}),
    bags,
    order,
  }
  const also: LogSourceEntry[] = []
  for (const [i, a] of (raw.also ?? []).entries()) {
    const own = fieldMap(a.fields, `${where}: log source ${name}, also #${i + 1}`)
    if (typeof own === 'string') return own
    if (a.keys && Object.keys(a.keys).length > 0 && !bags.some((b) => b.prefix === ''))
      return `${where}: log source ${name}, also #${i + 1}: keys name a key of the * bag, which the log source does not have`
    also.push({
      ...base,
      name: `${name}#${i + 1}`,
      conditions: a.conditions,
      fields: own,
      keys: a.keys ?? {},
      also: [],
    })
  }
  return { ...base, name, conditions: raw.conditions ?? {}, fields, also }
}

/**
 * The environment for these options: the shipped variant (`options.variant`, or the pipeline's
 * `variant:` key, or the default) with the user's pipeline merged over it. Cached per options.
 */
export function kqlEnv(options: TargetOptions = {}): EnvResult {
  const key = `${options.variant ?? ''}\u0000${options.pipeline ?? ''}`
  let r = envs.get(key)
  if (!r) {
    r = buildEnv(options)
    envs.set(key, r)
  }
  return r
}

function buildEnv(options: TargetOptions): EnvResult {
  const target = shippedTarget()
  let user: RawVariant = {}
  if (options.pipeline) {
    const read = readEnvironmentFile<RawVariant>('kql', options.pipeline, 'pipeline')
    if (!read.doc) return { error: read.problem }
    user = read.doc
  }
  const variant = options.variant ?? user.variant ?? target.default_variant
  const base = target.variants[variant]
  if (!base) return { error: `kql has no schema family "${variant}" (known: ${variants().join(', ')})` }
  const where = options.pipeline ?? 'targets/kql/target.yml'
  const { variant: _, ...userDoc } = user
  const merged = mergePipeline<RawVariant>(base, userDoc)
  const fields = fieldMap(merged.fields, options.pipeline && user.fields ? where : `kql ${variant}`)
  if (typeof fields === 'string') return { error: fields }
  const byName: LogSourceEntry[] = []
  for (const [name, entry] of Object.entries(merged.logsources ?? {})) {
    const ls = logsource(name, entry, user.logsources?.[name] ? where : `kql ${variant}`, byName.length)
    if (typeof ls === 'string') return { error: ls }
    byName.push(ls)
  }
  const tables = schemaOf(variant)
  for (const ls of byName) {
    const columns = tables[ls.table]
    if (!columns)
      return {
        error: `kql ${variant}: log source ${ls.name} names table ${ls.table}, which schema/${variant}.yml does not declare`,
      }
    for (const bag of ls.bags) {
      const type = columns[bag.column]
      if (type !== 'dynamic' && type !== 'string')
        return {
          error: `kql ${variant}: log source ${ls.name} keeps fields in ${ls.table}.${bag.column}, which is not a dynamic or string column`,
        }
    }
    for (const column of ls.stated)
      if (ls.conditions[column] === undefined)
        return {
          error: `kql ${variant}: log source ${ls.name} says the record states ${column}, which is not one of its conditions`,
        }
    for (const column of ls.keywords ?? []) {
      const type = columns[column]
      if (type !== 'string')
        return {
          error: `kql ${variant}: log source ${ls.name} searches keywords in ${ls.table}.${column}, which is not a string column`,
        }
    }
    for (const column of ls.nonempty)
      if (columns[column] !== 'string')
        return {
          error: `kql ${variant}: log source ${ls.name} says ${ls.table}.${column} is never empty, which is not a string column`,
        }
    if (ls.keywords && ls.bags.length > 0)
      return {
        error: `kql ${variant}: log source ${ls.name} keeps fields in a bag, so a keyword cannot search every value`,
      }
  }
  return {
    env: {
      variant,
      fields,
      logsources: byName.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
      tables,
    },
  }
}

/**
 * Whether an entry's `match` fits the rule's log source: every key equals the rule's
 * (case-insensitively), and a key matched with `''` is one the rule does not name (`{ product:
 * linux, category: '', service: '' }` is a rule about Linux logs in general).
 */
function fitsMatch(match: Readonly<Record<string, string>>, source: LogSource): boolean {
  return Object.entries(match).every(([k, v]) => {
    const named = textAt(source, k)
    return v === '' ? named === undefined : named?.toLowerCase() === v.toLowerCase()
  })
}

/** The entry whose every `match` key fits the rule's (fitsMatch); the most keys wins. */
export function resolveLogSource(env: KqlEnv, source: LogSource): LogSourceEntry | undefined {
  if (!env.logsources.some((ls) => Object.values(ls.match).includes('')))
    return resolveMostSpecific(env.logsources, source)
  return candidateLogSources(env, source)[0]
}

/**
 * Every entry that fits the rule's log source, the most specific first and, among equals, in
 * target.yml's order: the tables a rule may go to in this family, best first.
 */
export function candidateLogSources(env: KqlEnv, source: LogSource): LogSourceEntry[] {
  return env.logsources
    .filter((ls) => fitsMatch(ls.match, source))
    .sort((a, b) => Object.keys(b.match).length - Object.keys(a.match).length || a.order - b.order)
}

/**
 * The environments for these options, one per family the `variant` option names (in the order a
 * rule tries them). A user pipeline builds on the family its `variant:` key names, else on the first.
 */
export function kqlEnvs(
  options: TargetOptions = {},
): { envs: KqlEnv[]; error?: undefined } | { envs?: undefined; error: string } {
  const families = familiesOf(options.variant)
  if (typeof families === 'string') return { error: families }
  if (families.length === 1) {
    const r = kqlEnv({ ...options, variant: first(families) })
    return r.env ? { envs: [r.env] } : { error: r.error }
  }
  let owner = first(families)
  if (options.pipeline) {
    const read = readEnvironmentFile<RawVariant>('kql', options.pipeline, 'pipeline')
    if (!read.doc) return { error: read.problem }
    if (read.doc.variant !== undefined && families.includes(read.doc.variant)) owner = read.doc.variant
  }
  const envs: KqlEnv[] = []
  for (const f of families) {
    const r = kqlEnv(f === owner && options.pipeline ? { variant: f, pipeline: options.pipeline } : { variant: f })
    if (!r.env) return { error: r.error }
    envs.push(r.env)
  }
  return { envs }
}

/** The old name of resolveLogSource, for the verifier until it keeps its own model. */
export const resolveLogsource = resolveLogSource

/** One log source's match as text: `product=windows category=process_creation`. */
export function describeLogsource(ls: LogSourceEntry): string {
  return Object.entries(ls.match)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ')
}

const effectiveCache = new WeakMap<LogSourceEntry, { env: KqlEnv; map: Record<string, FieldSpec> }>()

/** The Sigma-field → column map in force for a log source (log source entries over the defaults). */
function effectiveFields(env: KqlEnv, ls: LogSourceEntry): Record<string, FieldSpec> {
  const hit = effectiveCache.get(ls)
  if (hit && hit.env === env) return hit.map
  const map = { ...env.fields, ...ls.fields }
  effectiveCache.set(ls, { env, map })
  return map
}

/**
 * Resolve a Sigma field: through the field map, or, when the name is itself a column of the table
 * that no mapped field writes, as that column. Undefined when neither applies.
 */
export function resolveField(env: KqlEnv, ls: LogSourceEntry, sigma: string): ResolvedField | string | undefined {
  const table = entryOf(env.tables, ls.table)
  const keys = ls.keys
  if (keys) {
    // An `also` record: its own columns and keys, nothing else.
    const key = Object.prototype.hasOwnProperty.call(keys, sigma) ? keys[sigma] : undefined
    const catchAll = ls.bags.find((b) => b.prefix === '')
    if (key !== undefined && catchAll)
      return {
        sigma,
        column: catchAll.column,
        type: 'string',
        path: [key],
        ...(table[catchAll.column] === 'string' ? { json: true } : {}),
      }
    if (!Object.prototype.hasOwnProperty.call(ls.fields, sigma)) return undefined
  }
  const map = keys ? ls.fields : effectiveFields(env, ls)
  const bag = map[sigma] || keys ? undefined : bagOf(ls, sigma)
  if (bag) {
    // A key of a bag reads as text: tostring() of a missing key is "", as of a string column.
    return {
      sigma,
      column: bag.column,
      type: 'string',
      path: bag.path,
      ...(table[bag.column] === 'string' ? { json: true } : {}),
    }
  }
  const spec =
    map[sigma] ?? (table[sigma] !== undefined && !mappedColumns(map).has(sigma) ? { column: sigma } : undefined)
  if (!spec) return undefined
  const type = table[spec.column]
  if (type === undefined) return `the field map sends ${sigma} to ${spec.column}, which table ${ls.table} does not have`
  if (spec.key !== undefined) {
    if (type !== 'dynamic' && type !== 'string')
      return `the field map sends ${sigma} to a key of ${spec.column}, which is not a dynamic or string column of ${ls.table}`
    // A key of a bag reads as text: tostring() of a missing key is "", as of a string column.
    return {
      sigma,
      column: spec.column,
      type: 'string',
      path: [spec.key],
      ...(type === 'string' ? { json: true } : {}),
      ...(spec.note ? { note: spec.note } : {}),
    }
  }
  if (spec.name !== undefined && table[spec.name] !== 'string')
    return `the field map sends ${sigma}'s file name to ${spec.name}, which is not a string column of ${ls.table}`
  return {
    sigma,
    column: spec.column,
    type,
    ...(spec.name ? { name: spec.name, separator: spec.separator ?? DEFAULT_SEPARATOR } : {}),
    ...(spec.note ? { note: spec.note } : {}),
  }
}

/**
 * The bag a field is a key of, and its key path: `requestParameters.a.b` under a
 * `requestParameters` bag is [a, b]; any field under a `*` bag is itself one key (Windows data
 * names are flat). Undefined when no bag holds it, or when a `*` bag would shadow a column the
 * table has under the same name.
 */
function bagOf(ls: LogSourceEntry, sigma: string): { column: string; path: string[] } | undefined {
  for (const bag of ls.bags) {
    if (bag.prefix === '') return sigma !== '' ? { column: bag.column, path: [sigma] } : undefined
    if (sigma.startsWith(bag.prefix + '.') && sigma.length > bag.prefix.length + 1) {
      const path = sigma.slice(bag.prefix.length + 1).split('.')
      if (path.every((k) => k !== '')) return { column: bag.column, path }
    }
  }
  return undefined
}

const mappedCache = new WeakMap<object, Set<string>>()
function mappedColumns(map: Record<string, FieldSpec>): Set<string> {
  let s = mappedCache.get(map)
  if (!s) {
    s = new Set(Object.values(map).flatMap((f) => (f.name ? [f.column, f.name] : [f.column])))
    mappedCache.set(map, s)
  }
  return s
}

/**
 * When `endswith <text>` on a path is exactly `name == <rest>`: the text is one separator and a
 * non-empty rest without a separator. Then a path ends with the text exactly when its last
 * separator is the text's, i.e. when the text after its last separator is the rest. Undefined
 * otherwise. The backend's rewrite of `endswith` on paths to the table's name column.
 */
export function nameSuffix(text: string, separator: string): string | undefined {
  if (!text.startsWith(separator)) return undefined
  const rest = text.slice(separator.length)
  return rest !== '' && !rest.includes(separator) ? rest : undefined
}
