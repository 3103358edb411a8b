/**
 * The Elastic EQL environment of the eql backend: log sources (event category, indices, constant
 * fields), the Sigma → ECS field map and the ECS field types; the verifier has its own model of
 * the records Elasticsearch would index (src/verify/eql-events.ts). Data lives in
 * `targets/eql/target.yml` and `targets/eql/schema/ecs.yml`; a user's `--pipeline FILE` is merged
 * over the former.
 */
import type { Diagnostic } from '../diagnostics.js'
import type { LogSource, Rule } from '../rule/rule.js'
import { environmentLoader, readShipped, resolveLogSource as resolveMostSpecific } from './environment.js'
import type { TargetOptions } from './types.js'

/**
 * ECS mapping types the backend knows; `text`, `flattened` and `boolean` exist only to be refused
 * by name.
 */
export type FieldType = 'keyword' | 'constant_keyword' | 'wildcard' | 'long' | 'ip' | 'text' | 'flattened' | 'boolean'

/** String-valued mapping types: the ones EQL's string operators (`:`, `like`, `regex`) accept. */
export const isStringType = (t: FieldType): boolean => t === 'keyword' || t === 'constant_keyword' || t === 'wildcard'

export interface EqlLogSource {
  readonly name: string
  readonly match: Readonly<Record<string, string>>
  /** EQL event category, or `any`. */
  readonly category: string
  readonly index: readonly string[]
  /** ECS field → its one value, or the values it may hold (a list: `field in (…)`). */
  readonly constants: Readonly<Record<string, string | readonly string[]>>
  readonly fields: Readonly<Record<string, string>>
  /** Prefix for Sigma fields in no map (`winlog.event_data.`), or undefined: such fields are refused. */
  readonly unmapped?: string
  /**
   * Sigma field → [value the source record holds, value the integration's pipeline indexes in its
   * place] (the o365 pipeline writes Operation "Add user." as event.action "added-user-account").
   */
  readonly rewrites: Readonly<Record<string, readonly (readonly [string, string])[]>>
  /**
   * Sigma field → the values (lower case) the integration's pipeline puts in the field's ECS field,
   * lower-cased; any other value is not there (Entra ID audit: properties.result moves to
   * event.outcome only when it is success or failure).
   */
  readonly only: Readonly<Record<string, readonly string[]>>
  /**
   * Event data values the integration's pipeline removes before indexing, so that the record holds
   * no such field at all (Sysmon: "", "-" and the zero GUID), and the Sigma fields that are not
   * event data (the winlog system fields), which keep their values.
   */
  readonly removes?: { readonly by?: string; readonly values: readonly string[]; readonly except: ReadonlySet<string> }
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
      constants?: Record<string, Scalar | Scalar[]> | null
      fields?: ScalarMap
      unmapped?: string
      rewrites?: Record<string, ScalarMap> | null
      only?: Record<string, string[]> | null
      removes?: { by?: string; values: string[]; except?: string[] }
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
    constants: Object.fromEntries(
      Object.entries(raw.constants ?? {}).map(([k, v]) => [k, Array.isArray(v) ? v.map(String) : String(v)]),
    ),
    fields: texts(raw.fields),
    ...(raw.unmapped !== undefined ? { unmapped: raw.unmapped } : {}),
    rewrites: Object.fromEntries(
      Object.entries(raw.rewrites ?? {}).map(([f, m]) => [
        f,
        Object.entries(texts(m)).map(([a, b]) => [a, b] as const),
      ]),
    ),
    only: Object.fromEntries(Object.entries(raw.only ?? {}).map(([f, values]) => [f, values.map(String)])),
    ...(raw.removes
      ? {
          removes: {
            ...(raw.removes.by !== undefined ? { by: raw.removes.by } : {}),
            values: raw.removes.values,
            except: new Set(raw.removes.except ?? []),
          },
        }
      : {}),
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
export function constantsFor(
  _rule: Rule,
  source: EqlLogSource,
  _env: EqlEnvironment,
): [string, string | readonly string[]][] {
  return Object.entries(source.constants)
}

/** A Sigma field's ECS name and type in this log source. */
export function resolveField(sigmaField: string, source: EqlLogSource, env: EqlEnvironment): ResolvedField {
  const mapped =
    source.fields[sigmaField] ?? env.fields[sigmaField] ?? (source.unmapped ? source.unmapped + sigmaField : undefined)
  if (mapped === undefined) {
    // A key inside an object the integration keeps as one flattened field (CloudTrail's
    // requestParameters.*): its name is the flattened field's subfield, and its type flattened.
    for (let i = sigmaField.lastIndexOf('.'); i > 0; i = sigmaField.lastIndexOf('.', i - 1)) {
      const parent = source.fields[sigmaField.slice(0, i)] ?? env.fields[sigmaField.slice(0, i)]
      if (parent !== undefined && typeOf(env.schema, parent) === 'flattened')
        return { ok: true, name: parent + sigmaField.slice(i), type: 'flattened' }
    }
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
