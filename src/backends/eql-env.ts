/**
 * The Elastic EQL environment, shared by the eql backend and its verifier: log sources (event
 * category, indices, constant fields), the Sigma → ECS field map, the ECS field types, and the
 * mapping of a Sigma-taxonomy event into the record Elasticsearch would index. Data lives in
 * `targets/eql/target.yml` and `targets/eql/schema/ecs.yml`; a user's `--pipeline FILE` is merged
 * over the former.
 */
import { fieldsOf } from '../ast/nodes.js'
import type { Diagnostic } from '../diagnostics.js'
import { getField } from '../evaluate/evaluate.js'
import { parseIp } from '../evaluate/cidr.js'
import type { JsonEvent, LogSource, Rule } from '../rule/rule.js'
import { environmentLoader, readShipped, resolveLogSource as resolveMostSpecific } from './environment.js'
import type { TargetOptions } from './types.js'

/** ECS mapping types the backend knows; `text` exists only to be refused by name. */
export type FieldType = 'keyword' | 'constant_keyword' | 'wildcard' | 'long' | 'ip' | 'text'

/** String-valued mapping types: the ones EQL's string operators (`:`, `like`, `regex`) accept. */
export const isStringType = (t: FieldType): boolean => t === 'keyword' || t === 'constant_keyword' || t === 'wildcard'

export interface EqlLogSource {
  readonly name: string
  readonly match: Readonly<Record<string, string>>
  /** EQL event category, or `any`. */
  readonly category: string
  readonly index: readonly string[]
  readonly constants: Readonly<Record<string, string>>
  readonly fields: Readonly<Record<string, string>>
  /** Prefix for Sigma fields in no map (`winlog.event_data.`), or undefined: such fields are refused. */
  readonly unmapped?: string
}

export interface EqlEnvironment {
  readonly fields: Readonly<Record<string, string>>
  readonly logsources: readonly EqlLogSource[]
  readonly schema: Schema
}

export interface Schema {
  readonly fields: ReadonlyMap<string, FieldType>
  readonly prefixes: readonly (readonly [string, FieldType])[]
}

/** A Sigma field resolved for one log source: its ECS name and type, or why it cannot be. */
export type ResolvedField =
  | { readonly ok: true; readonly name: string; readonly type: FieldType }
  | { readonly ok: false; readonly reason: string }

type Loaded = { env?: EqlEnvironment; diagnostics: Diagnostic[] }

type Scalar = string | number | boolean
type ScalarMap = Record<string, Scalar> | null
/** targets/eql/target.yml and an eql pipeline, as target.schema.json checks them. */
interface EqlDoc {
  fields?: ScalarMap
  logsources?: Record<
    string,
    {
      match: Record<string, Scalar>
      category?: Scalar
      index?: Scalar | Scalar[]
      constants?: ScalarMap
      fields?: ScalarMap
      unmapped?: string
    }
  > | null
}

const texts = (m: ScalarMap | undefined): Record<string, string> =>
  Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k, String(v)]))

function build(doc: EqlDoc, schema: Schema): EqlEnvironment {
  const logsources = Object.entries(doc.logsources ?? {}).map(([name, raw]): EqlLogSource => ({
    name,
    match: texts(raw.match),
    category: raw.category === undefined ? 'any' : String(raw.category),
    index: raw.index === undefined ? [] : Array.isArray(raw.index) ? raw.index.map(String) : [String(raw.index)],
    constants: texts(raw.constants),
    fields: texts(raw.fields),
    ...(raw.unmapped !== undefined ? { unmapped: raw.unmapped } : {}),
  }))
  return { fields: texts(doc.fields), logsources, schema }
}

function readSchema(): Schema {
  const r = readShipped<{ fields?: Record<string, FieldType>; prefixes?: Record<string, FieldType> }>(
    'eql',
    'schema/ecs.yml',
    'ecs',
  )
  if (!r.doc) throw new Error(`rulesmith: ${r.problem}`)
  return { fields: new Map(Object.entries(r.doc.fields ?? {})), prefixes: Object.entries(r.doc.prefixes ?? {}) }
}

let schema: Schema | undefined
const load = environmentLoader<EqlDoc, EqlEnvironment>('eql', (doc) => build(doc, (schema ??= readSchema())))

/**
 * The environment for these options: the shipped one, or the shipped one with the user's
 * pipeline merged over it (log sources by name added or replaced, field maps merged). Loaded once.
 */
export function loadEnvironment(options?: TargetOptions): Loaded {
  const r = load(options?.pipeline)
  if (r.env) return { env: r.env, diagnostics: [] }
  const file = options?.pipeline
  return {
    diagnostics: [
      { code: 'config/pipeline', severity: 'error', message: r.problem, ...(file ? { file } : {}), target: 'eql' },
    ],
  }
}

/** The most specific log source whose every `match` key equals the rule's (case-insensitive). */
export function resolveLogSource(logsource: LogSource, env: EqlEnvironment): EqlLogSource | undefined {
  return resolveMostSpecific(env.logsources, logsource)
}

export function typeOf(schema: Schema, name: string): FieldType | undefined {
  const t = schema.fields.get(name)
  if (t) return t
  for (const [prefix, type] of schema.prefixes) if (name.startsWith(prefix) && name.length > prefix.length) return type
  return undefined
}

/**
 * The log source's constant fields, all of them, even on a field the rule tests itself: the
 * constant says which records are of the log source at all (an Application-channel event is never
 * a `service: system` event, whatever the rule's own `Channel` test says).
 */
export function constantsFor(_rule: Rule, source: EqlLogSource, _env: EqlEnvironment): [string, string][] {
  return Object.entries(source.constants)
}

/** A Sigma field's ECS name and type in this log source. */
export function resolveField(sigmaField: string, source: EqlLogSource, env: EqlEnvironment): ResolvedField {
  const mapped =
    source.fields[sigmaField] ?? env.fields[sigmaField] ?? (source.unmapped ? source.unmapped + sigmaField : undefined)
  if (mapped === undefined) {
    return {
      ok: false,
      reason: `the Sigma field ${sigmaField} has no ECS name in log source ${source.name} (add it under fields: in a --pipeline file)`,
    }
  }
  const type = typeOf(env.schema, mapped)
  if (type === undefined)
    return {
      ok: false,
      reason: `the Sigma field ${sigmaField} maps to ${mapped}, which is not in targets/eql/schema/ecs.yml`,
    }
  return { ok: true, name: mapped, type }
}

/**
 * What a present value becomes once indexed, for values Elasticsearch cannot index in the field's
 * type (an object in a keyword, `"abc"` in a long): the field is present but matches no value.
 */
export const UNSEARCHABLE: unique symbol = Symbol('unsearchable')
export type IndexedValue = string | number | typeof UNSEARCHABLE

/** One record as the verifier sees it: ECS field → indexed values (none = missing or null). */
export interface MappedEvent {
  readonly values: ReadonlyMap<string, readonly IndexedValue[]>
  readonly types: ReadonlyMap<string, FieldType>
  /**
   * ECS fields whose value Elasticsearch would not hold as written: coerced (`" 1100 "` or `443.7`
   * in a long field), or rejected (a non-address in an ip field, an object in a keyword field).
   * No real record of this log source looks like that, so the event proves nothing for EQL.
   */
  readonly inexact: readonly string[]
}

/**
 * A Sigma value as Elasticsearch indexes it in a field of this type:
 * - keyword/wildcard: numbers and booleans are indexed as their text (keyword values are strings;
 *   https://www.elastic.co/guide/en/elasticsearch/reference/current/keyword.html);
 * - long: numbers and numeric strings are coerced, fractions truncated ("coerce … Try to convert
 *   strings to numbers and truncate fractions for integers",
 *   https://www.elastic.co/guide/en/elasticsearch/reference/current/coerce.html);
 * - ip: IPv4/IPv6 text (https://www.elastic.co/guide/en/elasticsearch/reference/current/ip.html).
 * Arrays hold one indexed value per element; null elements hold none ("null values … cannot be
 * indexed or searched", https://www.elastic.co/guide/en/elasticsearch/reference/current/null-value.html).
 */
function indexValue(v: unknown, type: FieldType): IndexedValue[] {
  if (v === null || v === undefined) return []
  if (Array.isArray(v)) return v.flatMap((x) => indexValue(x, type))
  switch (type) {
    case 'keyword':
    case 'constant_keyword':
    case 'wildcard':
    case 'text':
      if (typeof v === 'string') return [v]
      if (typeof v === 'number' || typeof v === 'boolean') return [JSON.stringify(v)]
      return [UNSEARCHABLE]
    case 'long': {
      const n =
        typeof v === 'number'
          ? v
          : typeof v === 'string' && /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(v)
            ? Number(v)
            : NaN
      return Number.isFinite(n) ? [Math.trunc(n)] : [UNSEARCHABLE]
    }
    case 'ip':
      return typeof v === 'string' && parseIp(v) ? [v] : [UNSEARCHABLE]
  }
}

/** True when Elasticsearch holds `v` in a field of this type as written, without coercing it. */
function heldExactly(v: unknown, type: FieldType): boolean {
  if (v === null || v === undefined) return true
  if (Array.isArray(v)) return v.every((x) => heldExactly(x, type))
  switch (type) {
    case 'long':
      return (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'string' && /^-?(0|[1-9]\d*)$/.test(v))
    case 'ip':
      // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is indexed as the IPv4 address itself.
      return typeof v === 'string' && parseIp(v) !== undefined && !/^::ffff:(\d+\.){3}\d+$/i.test(v)
    default:
      return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
  }
}

/**
 * A Sigma-taxonomy event as the record the target would hold for this log source: every Sigma
 * field the rule reads or the event carries, under its ECS name and indexed by its type, plus the
 * log source's constants and event category (the event is taken to come from that log source).
 */
export function mapEvent(event: JsonEvent, rule: Rule, source: EqlLogSource, env: EqlEnvironment): MappedEvent {
  const values = new Map<string, IndexedValue[]>()
  const types = new Map<string, FieldType>()
  const inexact: string[] = []
  const sigmaFields = new Set([...fieldsOf(rule.detection), ...Object.keys(event)])
  for (const f of sigmaFields) {
    const r = resolveField(f, source, env)
    if (!r.ok) continue
    types.set(r.name, r.type)
    const raw = getField(event, f)
    if (raw === undefined) continue
    if (!heldExactly(raw, r.type)) inexact.push(r.name)
    values.set(r.name, [...(values.get(r.name) ?? []), ...indexValue(raw, r.type)])
  }
  for (const [f, v] of constantsFor(rule, source, env)) {
    values.set(f, [v])
    types.set(f, typeOf(env.schema, f) ?? 'keyword')
  }
  if (source.category !== 'any') {
    values.set('event.category', [source.category])
    types.set('event.category', 'keyword')
  }
  return { values, types, inexact }
}
