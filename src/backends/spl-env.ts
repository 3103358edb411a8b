/**
 * The Splunk environment, shared by the SPL backend and its verifier: which log sources exist
 * (their search prefix), what Sigma fields are called in Splunk, and how a Sigma-taxonomy JSON
 * event looks once Splunk has extracted its fields (the event mapping). Data lives in
 * `targets/spl/target.yml`; a user's `--pipeline FILE` of the same shape is merged over it.
 */
import { error, type Diagnostic } from '../diagnostics.js'
import {
  LOGSOURCE_KEYS,
  environmentLoader,
  resolveLogSource as resolveMostSpecific,
  type EnvironmentDoc,
} from './environment.js'
import { fieldsOf, type Node } from '../ast/nodes.js'
import type { JsonEvent, LogSource } from '../rule/rule.js'

/** One log source: the events a Sigma `logsource` stands for in Splunk. */
export interface SplLogSource {
  readonly name: string
  /** Rule logsource keys that must all be equal (case-insensitive). */
  readonly match: Readonly<Record<string, string>>
  /** Search prefix terms, in order: `f=v`, or `f IN (…)` for several values. */
  readonly search: readonly SearchTerm[]
  /** Sigma field → Splunk field, over the environment's global map. */
  readonly fields: Readonly<Record<string, string>>
}

export interface SplEnv {
  readonly fields: Readonly<Record<string, string>>
  readonly logsources: ReadonlyMap<string, SplLogSource>
  /** Settings for the `savedsearches` format (schedule, severity by level). */
  readonly savedsearch: Readonly<Record<string, unknown>>
}

/**
 * A Splunk event as the verifier sees it: field name → its values. A field is present only
 * with at least one value; several values make a multivalue field.
 */
export type SplRecord = ReadonlyMap<string, readonly string[]>

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

/** targets/spl/target.yml and a spl pipeline, as target.schema.json checks them. */
interface SplDoc extends EnvironmentDoc {
  readonly fields?: Record<string, string> | null
  readonly savedsearch?: Record<string, string> | null
  readonly logsources?: Record<
    string,
    {
      match: Record<string, string>
      search?: Record<string, string | number | (string | number)[]>
      fields?: Record<string, string> | null
    }
  > | null
}

function build(doc: SplDoc): SplEnv {
  const logsources = new Map<string, SplLogSource>()
  for (const [name, ls] of Object.entries(doc.logsources ?? {})) {
    const search = Object.entries(ls.search ?? {}).map(([field, v]): SearchTerm => [field, Array.isArray(v) ? v : [v]])
    logsources.set(name, { name, match: ls.match, search, fields: ls.fields ?? {} })
  }
  return { fields: doc.fields ?? {}, logsources, savedsearch: doc.savedsearch ?? {} }
}

const load = environmentLoader<SplDoc, SplEnv>('spl', build)

/**
 * The environment: the shipped target.yml, with the user's pipeline merged over it. Loaded once
 * per pipeline path (compile stays free of YAML parsing after the first rule).
 */
export function loadEnv(pipeline?: string): { env?: SplEnv; diagnostics: readonly Diagnostic[] } {
  const r = load(pipeline)
  if (r.env) return { env: r.env, diagnostics: [] }
  return { diagnostics: [{ ...error('config/pipeline', r.problem, undefined, pipeline), target: 'spl' }] }
}

const lists = new WeakMap<SplEnv, SplLogSource[]>()

/** The most specific log source whose `match` keys all equal the rule's (case-insensitive). */
export function resolveLogSource(env: SplEnv, logsource: LogSource): SplLogSource | undefined {
  return resolveMostSpecific(splLogSources(env), logsource)
}

/** The log sources, in order, as a list. */
export function splLogSources(env: SplEnv): readonly SplLogSource[] {
  let list = lists.get(env)
  if (!list) lists.set(env, (list = [...env.logsources.values()]))
  return list
}

/** The Splunk name of a Sigma field in this log source. */
export function splunkField(env: SplEnv, ls: SplLogSource, sigmaField: string): string {
  return ls.fields[sigmaField] ?? env.fields[sigmaField] ?? sigmaField
}

export type SearchTerm = readonly [field: string, values: readonly (string | number)[]]

/**
 * The log source's search terms that this rule's search starts with: all of them, except a field
 * the rule tests itself (a Sysmon WMI rule's own `EventID: [19, 20, 21]` replaces the log source's
 * `EventCode IN (19, 20, 21)`), so that the rule alone decides that field.
 */
export function logSourceTerms(env: SplEnv, ls: SplLogSource, detection: Node): readonly SearchTerm[] {
  const tested = new Set(fieldsOf(detection).map((f) => splunkField(env, ls, f)))
  return ls.search.filter(([field]) => !tested.has(field))
}

/** Numbers and booleans reach Splunk as the text they were logged as: their JSON text. */
const asText = (v: string | number | boolean): string => (typeof v === 'string' ? v : JSON.stringify(v))

function scalars(value: unknown, out: string[]): void {
  if (Array.isArray(value)) value.forEach((v) => scalars(v, out))
  else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out.push(asText(value))
}

/**
 * The event mapping: a Sigma-taxonomy JSON event as Splunk's field extraction presents it for this
 * log source. Top-level keys first, then dotted paths into nested objects (as JSON field
 * extraction names them); arrays become multivalue fields; null, empty arrays and objects give no
 * field (Splunk has no value to extract). Each Sigma name is renamed by the field map. The log
 * source's search fields (`terms`: source, sourcetype, EventCode …) are added when the event lacks
 * them: the sample event is taken to come from that log source.
 */
export function mapEvent(
  env: SplEnv,
  ls: SplLogSource,
  event: JsonEvent,
  terms: readonly SearchTerm[] = ls.search,
): SplRecord {
  const record = new Map<string, string[]>()
  // A name already decided (even as "no value", e.g. an exact key holding null) is never filled again.
  const claimed = new Set<string>()
  const put = (sigmaName: string, value: unknown): void => {
    if (claimed.has(sigmaName)) return
    claimed.add(sigmaName)
    const values: string[] = []
    scalars(value, values)
    if (values.length === 0) return
    const name = splunkField(env, ls, sigmaName)
    if (!record.has(name)) record.set(name, values)
  }
  const nested: [string, Record<string, unknown>][] = []
  for (const [k, v] of Object.entries(event)) {
    put(k, v)
    if (isMap(v) && !k.includes('.')) nested.push([k, v])
  }
  // Dotted paths after every exact key: an exact key `a.b` wins over the path a → b, as in Sigma;
  // a key holding a dot is reachable only as an exact top-level key.
  while (nested.length > 0) {
    const [prefix, obj] = nested.shift()!
    for (const [k, v] of Object.entries(obj)) {
      if (k.includes('.')) continue
      const name = `${prefix}.${k}`
      put(name, v)
      if (isMap(v)) nested.push([name, v])
    }
  }
  for (const [field, values] of terms) {
    if (!record.has(field)) record.set(field, [String(values[0])])
  }
  return record
}
