/**
 * Correlation and filter documents → `Correlation` / `Filter`, with every problem a positioned
 * diagnostic. Checks that need the other documents (references, cycles, group-by fields) are in
 * ./resolve.ts, run once everything given has been loaded.
 */
import type { Pos } from '../ast/nodes.js'
import { error, warning, type Diagnostic, type DiagnosticCode } from '../diagnostics.js'
import { buildDetection } from '../rule/build.js'
import type { LogSource } from '../rule/rule.js'
import type { Path, YamlDocument } from '../rule/yaml.js'
import {
  CORRELATION_TYPES,
  FIELD_TYPES,
  parseTimespan,
  THRESHOLD_OPS,
  meetsThresholds,
  type Correlation,
  type CorrelationType,
  type Filter,
  type Reference,
  type Threshold,
} from './model.js'
import { isOneOf, isStringArray, itemAt } from '../guards.js'

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

const CORRELATION_KEYS = ['type', 'rules', 'group-by', 'timespan', 'condition', 'aliases', 'generate']
const LOGSOURCE_KEYS = ['category', 'product', 'service', 'definition']

function str(value: Record<string, unknown>, k: string): string | undefined {
  return typeof value[k] === 'string' ? (value[k] as string) : undefined
}

function identity(value: Record<string, unknown>, doc: YamlDocument) {
  const idAt = doc.locate(['id'])?.value
  const opt = (k: string) => {
    const v = str(value, k)
    return v !== undefined ? { [k]: v } : {}
  }
  return {
    at: doc.at,
    ...(idAt && str(value, 'id') !== undefined ? { idAt } : {}),
    ...opt('id'),
    ...opt('name'),
  }
}

/** `title` is mandatory for both kinds (spec "Components": title, "Use: mandatory"). */
function checkTitle(value: Record<string, unknown>, doc: YamlDocument, file: string, out: Diagnostic[]): string {
  const title = value['title']
  if (typeof title !== 'string' || title.trim() === '') {
    out.push(
      error(
        'rule/schema',
        "the document is missing the required key 'title'",
        doc.locate(['title'])?.value ?? doc.at,
        file,
      ),
    )
    return ''
  }
  return title
}

function references(
  list: unknown,
  path: Path,
  doc: YamlDocument,
  file: string,
  out: Diagnostic[],
  code: DiagnosticCode,
  what: string,
): Reference[] | undefined {
  if (!Array.isArray(list)) {
    out.push(error(code, `${what} must be a list of rule ids or names`, doc.locate(path)?.value ?? doc.at, file))
    return undefined
  }
  const refs: Reference[] = []
  list.forEach((item, i) => {
    const at = doc.locate([...path, i])?.value ?? doc.at
    if (typeof item !== 'string' || item.trim() === '')
      out.push(error(code, `${what}[${i}] must be a rule id or name (a string)`, at, file))
    else refs.push({ ref: item, at })
  })
  return refs
}

export function loadCorrelation(
  value: Record<string, unknown>,
  doc: YamlDocument,
  file: string,
): { correlation?: Correlation; diagnostics: Diagnostic[] } {
  const out: Diagnostic[] = []
  const title = checkTitle(value, doc, file, out)
  const body = value['correlation']
  const bodyAt = doc.locate(['correlation'])?.value ?? doc.at
  if (!isMap(body)) {
    out.push(
      error('correlation/invalid', 'correlation must be a map with type, rules, group-by, timespan', bodyAt, file),
    )
    return { diagnostics: out }
  }
  const loc = (...p: Path): Pos => doc.locate(['correlation', ...p])?.value ?? bodyAt
  const keyLoc = (k: string): Pos => doc.locate(['correlation', k])?.key ?? bodyAt
  for (const k of Object.keys(body))
    if (!CORRELATION_KEYS.includes(k))
      out.push(
        error(
          'correlation/unknown-key',
          `unknown key correlation.${k} (expected ${CORRELATION_KEYS.join(', ')})`,
          keyLoc(k),
          file,
        ),
      )

  const rawType = body['type']
  const type = isOneOf(CORRELATION_TYPES, rawType) ? rawType : undefined
  if (type === undefined)
    out.push(
      error('correlation/type', `correlation.type must be one of ${CORRELATION_TYPES.join(', ')}`, loc('type'), file),
    )

  const rules =
    body['rules'] === undefined
      ? (out.push(
          error(
            'correlation/rules',
            'correlation.rules is required: the ids or names of the rules it correlates',
            bodyAt,
            file,
          ),
        ),
        undefined)
      : references(body['rules'], ['correlation', 'rules'], doc, file, out, 'correlation/rules', 'correlation.rules')
  if (rules && rules.length === 0)
    out.push(error('correlation/rules', 'correlation.rules must name at least one rule', loc('rules'), file))
  if (type === 'temporal' || type === 'temporal_ordered') {
    if (rules && rules.length < 2)
      out.push(error('correlation/rules', `a ${type} correlation relates at least two rules`, loc('rules'), file))
  }
  if (rules) {
    const seen = new Set<string>()
    for (const r of rules) {
      if (seen.has(r.ref))
        out.push(error('correlation/rules', `'${r.ref}' is listed twice in correlation.rules`, r.at, file))
      seen.add(r.ref)
    }
  }

  let groupBy: string[] = []
  const gb = body['group-by']
  if (gb !== undefined) {
    const list = typeof gb === 'string' ? [gb] : gb
    if (!isStringArray(list) || list.some((f) => f === ''))
      out.push(
        error('correlation/group-by', 'correlation.group-by must be a list of field names', loc('group-by'), file),
      )
    else {
      groupBy = list
      if (new Set(groupBy).size !== groupBy.length)
        out.push(error('correlation/group-by', 'correlation.group-by lists a field twice', loc('group-by'), file))
    }
  }

  let timespan: number | undefined
  const ts = body['timespan']
  const timespanText = typeof ts === 'string' ? ts : undefined
  if (ts === undefined)
    out.push(
      error('correlation/timespan', 'correlation.timespan is required (a number and s, m, h or d: 5m)', bodyAt, file),
    )
  else {
    timespan = timespanText !== undefined ? parseTimespan(timespanText) : undefined
    if (timespan === undefined)
      out.push(
        error(
          'correlation/timespan',
          `correlation.timespan ${JSON.stringify(ts)} is not a number from 1 followed by s, m, h or d in lower case (5m, 90m, 1h), at most a year`,
          loc('timespan'),
          file,
        ),
      )
  }

  const {
    condition,
    field,
    ok: conditionOk,
  } = readCondition(body, type, typeText(rawType), doc, file, out, loc, bodyAt)
  const aliases = readAliases(body['aliases'], doc, file, out, loc)
  const generate = body['generate']
  if (generate !== undefined && typeof generate !== 'boolean')
    out.push(error('correlation/generate', 'correlation.generate must be true or false', loc('generate'), file))
  // Spec, "Correlation rules": "only the outermost correlation rule may define meta information";
  // enforced in resolve.ts, where it is known which correlations are referenced.

  if (
    out.some((d) => d.severity === 'error') ||
    !rules ||
    type === undefined ||
    timespan === undefined ||
    timespanText === undefined ||
    !conditionOk
  )
    return { diagnostics: out }
  const level = str(value, 'level')
  const status = str(value, 'status')
  const description = str(value, 'description')
  return {
    correlation: {
      file,
      ...identity(value, doc),
      title,
      ...(level !== undefined ? { level } : {}),
      ...(status !== undefined ? { status } : {}),
      ...(description !== undefined ? { description } : {}),
      type,
      rules,
      groupBy,
      timespan,
      timespanText,
      condition,
      ...(field !== undefined ? { field } : {}),
      aliases,
      generate: generate === true,
      where: {
        groupBy: groupBy.map((_, i) => loc('group-by', i)),
        condition: body['condition'] !== undefined ? loc('condition') : bodyAt,
        ...(field !== undefined ? { field: loc('condition', 'field') } : {}),
        aliases: Object.fromEntries(
          Object.entries(aliases).map(([a, m]) => [
            a,
            Object.fromEntries(
              Object.keys(m).map((r) => [r, doc.locate(['correlation', 'aliases', a, r])?.key ?? bodyAt]),
            ),
          ]),
        ),
      },
      raw: value,
    },
    diagnostics: out,
  }
}

/** A `type:` value as a template literal spells it. */
const typeText = (v: unknown): string => (typeof v === 'string' ? v : (JSON.stringify(v) ?? 'undefined'))

function readCondition(
  body: Record<string, unknown>,
  type: CorrelationType | undefined,
  /** The type as written, for messages (it may be no type at all). */
  typeName: string,
  doc: YamlDocument,
  file: string,
  out: Diagnostic[],
  loc: (...p: Path) => Pos,
  bodyAt: Pos,
): { condition: Threshold[]; field?: string; ok: boolean } {
  const before = out.length
  const cond = body['condition']
  const temporal = type === 'temporal' || type === 'temporal_ordered'
  if (cond === undefined) {
    // Spec: temporal types "Requires: rules, group-by, timespan" — no condition; the others need one.
    if (!temporal && type !== undefined)
      out.push(error('correlation/condition', `a ${type} correlation needs a condition (gte: 10)`, bodyAt, file))
    return { condition: [], ok: out.length === before }
  }
  if (!isMap(cond)) {
    out.push(
      error('correlation/condition', 'correlation.condition must be a map such as { gte: 10 }', loc('condition'), file),
    )
    return { condition: [], ok: false }
  }
  if (type === 'temporal_ordered') {
    out.push(
      error(
        'correlation/condition',
        'a temporal_ordered correlation needs every referenced rule, in order; it takes no condition',
        loc('condition'),
        file,
      ),
    )
    return { condition: [], ok: false }
  }
  const condition: Threshold[] = []
  let field: string | undefined
  for (const [k, v] of Object.entries(cond)) {
    const at = loc('condition', k)
    if (k === 'field') {
      if (typeof v === 'string' && v !== '') field = v
      else if (Array.isArray(v))
        out.push(
          error(
            'correlation/condition-field',
            'correlation.condition.field as a list is not supported by rulesmith; name one field',
            at,
            file,
          ),
        )
      else out.push(error('correlation/condition-field', 'correlation.condition.field must be a field name', at, file))
      continue
    }
    if (!isOneOf(THRESHOLD_OPS, k)) {
      out.push(
        error(
          'correlation/condition',
          `unknown condition '${k}' (expected ${THRESHOLD_OPS.join(', ')}, and field for value types)`,
          doc.locate(['correlation', 'condition', k])?.key ?? at,
          file,
        ),
      )
      continue
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      out.push(error('correlation/condition', `correlation.condition.${k} must be a number`, at, file))
      continue
    }
    condition.push({ op: k, value: v })
  }
  const aggregates = type !== undefined && FIELD_TYPES.includes(type)
  if (aggregates && field === undefined && out.length === before)
    out.push(
      error(
        'correlation/condition-field',
        `a ${type} correlation names the field it aggregates: condition.field`,
        loc('condition'),
        file,
      ),
    )
  if (!aggregates && field !== undefined)
    out.push(
      error(
        'correlation/condition-field',
        `a ${typeName} correlation aggregates no field; remove condition.field`,
        loc('condition', 'field'),
        file,
      ),
    )
  if (condition.length === 0 && out.length === before)
    out.push(
      error(
        'correlation/condition',
        'correlation.condition needs a comparison: gt, gte, lt, lte, eq or neq',
        loc('condition'),
        file,
      ),
    )
  if (out.length === before && type !== undefined) {
    const domain = conditionDomain(type)
    if (!satisfiable(condition, domain))
      out.push(
        error(
          'correlation/unsatisfiable',
          `the condition ${describe(condition)} can never hold: ${domain.what}`,
          loc('condition'),
          file,
        ),
      )
  }
  return { condition, ...(field !== undefined ? { field } : {}), ok: out.length === before }
}

export interface Domain {
  readonly integer: boolean
  readonly min: number
  readonly minOpen: boolean
  readonly max: number
  readonly what: string
}

/** The values an aggregate of a non-empty window can take; undefined where any number can occur. */
export function conditionDomain(type: CorrelationType, rules = Infinity): Domain {
  switch (type) {
    case 'event_count':
      return { integer: true, min: 1, minOpen: false, max: Infinity, what: 'a window holds at least one event' }
    case 'value_count':
      return {
        integer: true,
        min: 0,
        minOpen: false,
        max: Infinity,
        what: 'a distinct count is a whole number, at least 0',
      }
    case 'temporal':
    case 'temporal_ordered':
      return {
        integer: true,
        min: 1,
        minOpen: false,
        max: rules,
        what: `the count of different rules in a window is a whole number from 1 to ${rules}`,
      }
    case 'value_percentile':
      return { integer: false, min: 0, minOpen: true, max: 100, what: 'a share of events is above 0 and at most 100' }
    case 'value_sum':
    case 'value_avg':
      return { integer: false, min: -Infinity, minOpen: false, max: Infinity, what: 'no number meets every criterion' }
  }
}

export function satisfiable(condition: readonly Threshold[], domain: Domain): boolean {
  const points = new Set<number>([domain.min, domain.min + 1])
  const vs = condition.map((t) => t.value)
  for (const v of vs) for (const d of [-1, -0.5, 0, 0.5, 1]) points.add(domain.integer ? Math.floor(v) + d : v + d)
  for (const v of vs) if (domain.integer) points.add(Math.ceil(v))
  if (vs.length) points.add(Math.max(...vs) + 2)
  const sorted = [...vs].sort((a, b) => a - b)
  for (let i = 1; i < sorted.length; i++) points.add((itemAt(sorted, i - 1) + itemAt(sorted, i)) / 2)
  for (const p of points) {
    if (domain.integer && !Number.isInteger(p)) continue
    if (p < domain.min || (domain.minOpen && p === domain.min) || p > domain.max) continue
    if (meetsThresholds(p, condition)) return true
  }
  return false
}

const describe = (condition: readonly Threshold[]) => condition.map((t) => `${t.op} ${t.value}`).join(' and ')

function readAliases(
  raw: unknown,
  doc: YamlDocument,
  file: string,
  out: Diagnostic[],
  loc: (...p: Path) => Pos,
): Record<string, Record<string, string>> {
  const aliases: Record<string, Record<string, string>> = {}
  if (raw === undefined) return aliases
  if (!isMap(raw)) {
    out.push(
      error(
        'correlation/aliases',
        'correlation.aliases must map an alias to { rule name: field }',
        loc('aliases'),
        file,
      ),
    )
    return aliases
  }
  for (const [alias, m] of Object.entries(raw)) {
    const fields = isMap(m) ? Object.entries(m) : []
    const names: Record<string, string> = {}
    for (const [rule, f] of fields) if (typeof f === 'string' && f !== '') names[rule] = f
    if (!isMap(m) || Object.keys(names).length !== fields.length) {
      out.push(
        error(
          'correlation/aliases',
          `correlation.aliases.${alias} must map rule names to field names`,
          loc('aliases', alias),
          file,
        ),
      )
      continue
    }
    aliases[alias] = names
  }
  return aliases
}

/** A view of the document where `detection.…` reads `filter.…`, so the detection builder positions filter values. */
function filterView(doc: YamlDocument): YamlDocument {
  const map = (path: Path): Path => (path[0] === 'detection' ? ['filter', ...path.slice(1)] : path)
  return {
    value: doc.value,
    at: doc.at,
    locate: (path) => doc.locate(map(path)),
    pos: (path, which) => doc.pos(map(path), which),
    inside: (path, index) => doc.inside(map(path), index),
    plainText: (path) => doc.plainText(map(path)),
  }
}

export function loadFilter(
  value: Record<string, unknown>,
  doc: YamlDocument,
  file: string,
  placeholders?: Readonly<Record<string, readonly string[]>>,
): { filter?: Filter; diagnostics: Diagnostic[] } {
  const out: Diagnostic[] = []
  const title = checkTitle(value, doc, file, out)
  const body = value['filter']
  const bodyAt = doc.locate(['filter'])?.value ?? doc.at
  for (const k of ['level', 'status'])
    if (k in value)
      out.push(
        warning(
          'filter/meta',
          `a filter has no ${k} (spec: "It has no level or status because its purpose is to enrich an existing Sigma rule")`,
          doc.locate([k])?.key ?? doc.at,
          file,
        ),
      )
  const ls = value['logsource']
  let logsource: LogSource | undefined
  if (!isMap(ls) || Object.keys(ls).length === 0)
    out.push(
      error(
        'filter/logsource',
        'a filter needs a logsource (spec: "Use: mandatory")',
        doc.locate(['logsource'])?.value ?? doc.at,
        file,
      ),
    )
  else {
    for (const [k, v] of Object.entries(ls))
      if (!LOGSOURCE_KEYS.includes(k) || typeof v !== 'string')
        out.push(
          error(
            'filter/logsource',
            `logsource.${k} is not a log source key with a text value`,
            doc.locate(['logsource', k])?.key ?? doc.at,
            file,
          ),
        )
    logsource = ls as LogSource
  }
  if (!isMap(body)) {
    out.push(error('filter/invalid', 'filter must be a map with rules, selection and condition', bodyAt, file))
    return { diagnostics: out }
  }
  const rules =
    body['rules'] === undefined
      ? (out.push(
          error('filter/rules', 'filter.rules is required: the ids or names of the rules it applies to', bodyAt, file),
        ),
        undefined)
      : references(body['rules'], ['filter', 'rules'], doc, file, out, 'filter/rules', 'filter.rules')
  if (!('condition' in body))
    out.push(error('filter/condition', 'filter.condition is required (spec: "Use: mandatory")', bodyAt, file))
  const detectionMap: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(body)) if (k !== 'rules') detectionMap[k] = v
  if (Object.keys(detectionMap).filter((k) => k !== 'condition').length === 0)
    out.push(error('filter/selection', 'a filter needs a selection to test (filter.selection)', bodyAt, file))
  if (out.some((d) => d.severity === 'error')) return { diagnostics: out }
  const detection = buildDetection(detectionMap, {
    doc: filterView(doc),
    file,
    diagnostics: out,
    ...(placeholders ? { placeholders } : {}),
  })
  if (!detection || !rules || !logsource || out.some((d) => d.severity === 'error')) return { diagnostics: out }
  return { filter: { file, ...identity(value, doc), title, logsource, rules, detection }, diagnostics: out }
}
