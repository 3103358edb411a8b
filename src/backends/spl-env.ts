/**
 * The Splunk environment, shared by the SPL backend and its verifier: which log sources exist
 * (their search prefix), what Sigma fields are called in Splunk, and how a Sigma-taxonomy JSON
 * event looks once Splunk has extracted its fields (the event mapping). Data lives in
 * `targets/spl/target.yml`; a user's `--pipeline FILE` of the same shape is merged over it.
 */
import { readFileSync } from 'node:fs'
import yaml from 'js-yaml'
import { error, type Diagnostic } from '../diagnostics.js'
import { targetPath } from '../paths.js'
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
const LOGSOURCE_KEYS = ['product', 'category', 'service', 'definition'] as const

interface RawEnv {
  fields: Record<string, string>
  logsources: Map<string, SplLogSource>
  savedsearch: Record<string, unknown>
}

/** Read one YAML file of the target.yml shape; problems become diagnostics naming the file. */
function readEnvFile(file: string): { raw?: RawEnv; diagnostics: Diagnostic[] } {
  const bad = (message: string): { diagnostics: Diagnostic[] } => ({
    diagnostics: [{ ...error('config/pipeline', `${file}: ${message}`, undefined, file), target: 'spl' }],
  })
  let doc: unknown
  try {
    doc = yaml.load(readFileSync(file, 'utf8'))
  } catch (e) {
    return bad(`cannot read the pipeline file: ${(e as Error).message.split('\n')[0]}`)
  }
  if (doc === undefined || doc === null) doc = {}
  if (!isMap(doc)) return bad('a pipeline file is a YAML map with `fields` and/or `logsources`')
  const fields = doc.fields ?? {}
  if (!isStringMap(fields)) return bad('`fields` must map Sigma field names to Splunk field names (strings)')
  const logsources = new Map<string, SplLogSource>()
  const rawSources = doc.logsources ?? {}
  if (!isMap(rawSources)) return bad('`logsources` must be a map of log source names')
  for (const [name, value] of Object.entries(rawSources)) {
    if (!isMap(value)) return bad(`log source '${name}' must be a map`)
    const match = value.match ?? {}
    if (!isStringMap(match) || Object.keys(match).some((k) => !(LOGSOURCE_KEYS as readonly string[]).includes(k)))
      return bad(`log source '${name}': \`match\` maps ${LOGSOURCE_KEYS.join('/')} to strings`)
    const lsFields = value.fields ?? {}
    if (!isStringMap(lsFields)) return bad(`log source '${name}': \`fields\` must map field names to strings`)
    const rawSearch = value.search ?? {}
    if (!isMap(rawSearch)) return bad(`log source '${name}': \`search\` must map Splunk fields to values`)
    const search: [string, (string | number)[]][] = []
    for (const [field, v] of Object.entries(rawSearch)) {
      // Written bare before the rule's terms, so it must be a plain Splunk field name.
      if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(field) || /^(AND|OR|NOT|IN)$/.test(field))
        return bad(`log source '${name}': '${field}' cannot be written bare in a search; use a plain field name`)
      const values = Array.isArray(v) ? v : [v]
      if (
        values.length === 0 ||
        !values.every((x) => typeof x === 'string' || (typeof x === 'number' && Number.isFinite(x)))
      )
        return bad(
          `log source '${name}': search value of '${field}' must be a string, a number or a non-empty list of them`,
        )
      search.push([field, values as (string | number)[]])
    }
    logsources.set(name, { name, match, search, fields: lsFields })
  }
  const savedsearch = isMap(doc.savedsearch) ? doc.savedsearch : {}
  return { raw: { fields, logsources, savedsearch }, diagnostics: [] }
}

const isStringMap = (v: unknown): v is Record<string, string> =>
  isMap(v) && Object.values(v).every((x) => typeof x === 'string')

let shipped: RawEnv | undefined
const merged = new Map<string, { env?: SplEnv; diagnostics: Diagnostic[] }>()

/**
 * The environment: the shipped target.yml, with the user's pipeline merged over it. Loaded once
 * per pipeline path (compile stays free of YAML parsing after the first rule).
 */
export function loadEnv(pipeline?: string): { env?: SplEnv; diagnostics: readonly Diagnostic[] } {
  const key = pipeline ?? ''
  const cached = merged.get(key)
  if (cached) return cached
  if (!shipped) {
    const base = readEnvFile(targetPath('spl', 'target.yml'))
    if (!base.raw) throw new Error(`rulesmith: targets/spl/target.yml is invalid: ${base.diagnostics[0]?.message}`)
    shipped = base.raw
  }
  let result: { env?: SplEnv; diagnostics: Diagnostic[] }
  if (pipeline === undefined) {
    result = { env: shipped, diagnostics: [] }
  } else {
    const user = readEnvFile(pipeline)
    result = user.raw
      ? {
          env: {
            fields: { ...shipped.fields, ...user.raw.fields },
            logsources: new Map([...shipped.logsources, ...user.raw.logsources]),
            savedsearch: { ...shipped.savedsearch, ...user.raw.savedsearch },
          },
          diagnostics: [],
        }
      : { diagnostics: user.diagnostics }
  }
  merged.set(key, result)
  return result
}

const resolved = new WeakMap<SplEnv, Map<string, SplLogSource | undefined>>()

/** The most specific log source whose `match` keys all equal the rule's (case-insensitive). */
export function resolveLogSource(env: SplEnv, logsource: LogSource): SplLogSource | undefined {
  let cache = resolved.get(env)
  if (!cache) resolved.set(env, (cache = new Map()))
  const key = LOGSOURCE_KEYS.map((k) => logsource[k]?.toLowerCase() ?? '').join('\u0000')
  if (cache.has(key)) return cache.get(key)
  const found = findLogSource(env, logsource)
  cache.set(key, found)
  return found
}

function findLogSource(env: SplEnv, logsource: LogSource): SplLogSource | undefined {
  let best: SplLogSource | undefined
  let bestKeys = -1
  for (const ls of env.logsources.values()) {
    const keys = Object.entries(ls.match)
    const fits = keys.every(([k, v]) => {
      const have = logsource[k as keyof LogSource]
      return typeof have === 'string' && have.toLowerCase() === v.toLowerCase()
    })
    if (fits && keys.length > bestKeys) {
      best = ls
      bestKeys = keys.length
    }
  }
  return best
}

/** How a rule's log source reads in a message: `product=windows category=process_creation`. */
export function describeLogSource(logsource: LogSource): string {
  const parts = LOGSOURCE_KEYS.flatMap((k) => (logsource[k] ? [`${k}=${logsource[k]}`] : []))
  return parts.length ? parts.join(' ') : '(empty logsource)'
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
