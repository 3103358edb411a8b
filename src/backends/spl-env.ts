/**
 * The Splunk environment of the SPL backend: which log sources exist (their search prefix) and
 * what Sigma fields are called in Splunk. The verifier has its own model (src/verify/spl-events.ts). Data lives in
 * `targets/spl/target.yml`; a user's `--pipeline FILE` of the same shape is merged over it.
 */
import { error, type Diagnostic } from '../diagnostics.js'
import { environmentLoader, resolveLogSource as resolveMostSpecific, type EnvironmentDoc } from './environment.js'
import { fieldsOf, type Node } from '../ast/nodes.js'
import type { LogSource } from '../rule/rule.js'

/** One log source: the events a Sigma `logsource` stands for in Splunk. */
export interface SplLogSource {
  readonly name: string
  /** Rule logsource keys that must all be equal (case-insensitive). */
  readonly match: Readonly<Record<string, string>>
  /** The search macro that scopes it (written first), when it has one. */
  readonly macro?: string
  /** Search prefix terms after the macro, in order: `f=v`, or `f IN (…)` for several values. */
  readonly search: readonly SearchTerm[]
  /** Sigma field → Splunk field, over the environment's global map. */
  readonly fields: Readonly<Record<string, string>>
  /**
   * Other records of the same activity (Security 4688 for a process creation): each is searched
   * too when every field the rule reads is one of its `fields`, which are all it records.
   */
  readonly also: readonly SplLogSource[]
}

/** A log source in a CIM data model (`--variant cim`): its dataset and every field it holds. */
export interface CimLogSource {
  readonly name: string
  readonly match: Readonly<Record<string, string>>
  /** `<data model>.<dataset>`, e.g. Endpoint.Processes. */
  readonly datamodel: string
  /** Sigma field → the dataset's field as the datamodel command names it (Processes.process_path). */
  readonly fields: Readonly<Record<string, string>>
}

export interface SplEnv {
  readonly fields: Readonly<Record<string, string>>
  readonly logsources: ReadonlyMap<string, SplLogSource>
  /** `--variant cim`: the CIM data-model datasets, by log source. */
  readonly cim: readonly CimLogSource[]
  /** Search macros: name → definition (macros.conf), for the queries' log-source scopes. */
  readonly macros: Readonly<Record<string, string>>
  /** Settings for the `savedsearches` format (schedule, severity by level). */
  readonly savedsearch: Readonly<Record<string, unknown>>
}

/** targets/spl/target.yml and a spl pipeline, as target.schema.json checks them. */
interface SplDoc extends EnvironmentDoc {
  readonly fields?: Record<string, string> | null
  readonly savedsearch?: Record<string, string> | null
  readonly macros?: Record<string, string> | null
  readonly variants?: {
    cim?: {
      logsources: Record<string, { match: Record<string, string>; datamodel: string; fields: Record<string, string> }>
    }
  } | null
  readonly logsources?: Record<
    string,
    ScopeDoc & {
      match: Record<string, string>
      also?: (ScopeDoc & { fields: Record<string, string> | null })[]
    }
  > | null
}

interface ScopeDoc {
  macro?: string
  search?: Record<string, string | number | (string | number)[]>
  fields?: Record<string, string> | null
}

const searchTerms = (search: ScopeDoc['search']): SearchTerm[] =>
  Object.entries(search ?? {}).map(([field, v]): SearchTerm => [field, Array.isArray(v) ? v : [v]])

function build(doc: SplDoc): SplEnv | string {
  const macros = doc.macros ?? {}
  const logsources = new Map<string, SplLogSource>()
  for (const [name, ls] of Object.entries(doc.logsources ?? {})) {
    for (const m of [ls.macro, ...(ls.also ?? []).map((a) => a.macro)])
      if (m !== undefined && !Object.prototype.hasOwnProperty.call(macros, m))
        return `logsources.${name}: the macro '${m}' has no definition under macros`
    const also = (ls.also ?? []).map((a, i): SplLogSource => ({
      name: `${name}#${i + 1}`,
      match: ls.match,
      ...(a.macro !== undefined ? { macro: a.macro } : {}),
      search: searchTerms(a.search),
      fields: a.fields ?? {},
      also: [],
    }))
    logsources.set(name, {
      name,
      match: ls.match,
      ...(ls.macro !== undefined ? { macro: ls.macro } : {}),
      search: searchTerms(ls.search),
      fields: ls.fields ?? {},
      also,
    })
  }
  const cim = Object.entries(doc.variants?.cim?.logsources ?? {}).map(([name, ls]): CimLogSource => ({
    name,
    match: ls.match,
    datamodel: ls.datamodel,
    fields: ls.fields,
  }))
  return { fields: doc.fields ?? {}, logsources, macros, cim, savedsearch: doc.savedsearch ?? {} }
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
