/**
 * Load Sigma rule files: YAML with positions → document kind (rule, correlation, filter) →
 * schema and metadata checks → detection AST. Returns rules and diagnostics; never throws for
 * bad input.
 */
import type { DiagnosticCode } from '../diagnostics.js'
import { lstatSync, readdirSync, realpathSync, statSync, type Dirent, type Stats } from 'node:fs'
import { join, resolve, sep } from 'node:path'
import { ioDiagnostic, readInputFile } from '../input-file.js'
import { followsLinks, limitKey, limits } from '../limits.js'
import type { ErrorObject } from 'ajv'
import { error, warning, type Diagnostic } from '../diagnostics.js'
import type { Pos } from '../ast/nodes.js'
import { buildDetection } from './build.js'
import { checkMetadata } from './checks.js'
import type { Rule } from './rule.js'
import validateRule from './schema-validate.generated.js'
import { parseYaml, type YamlDocument } from './yaml.js'
import { clashPrefilter } from './clash-prefilter.js'
import { loadCorrelation, loadFilter } from '../correlation/load.js'
import type { Correlation, Filter } from '../correlation/model.js'
import { resolveDocuments, type ResolvedCorrelation } from '../correlation/resolve.js'
import { errnoCode, InternalError, must } from '../guards.js'

export interface LoadOptions {
  /** Values for `|expand` placeholders, by name without the `%`. */
  readonly placeholders?: Readonly<Record<string, readonly string[]>>
}

/** A document that is not a detection rule: recognised, reported, never compiled silently. */
export interface OtherDocument {
  readonly kind: 'correlation' | 'filter'
  readonly file: string
  readonly at: Pos
  readonly title?: string
  readonly id?: string
  readonly name?: string
}

export interface Loaded {
  readonly rules: Rule[]
  readonly others: OtherDocument[]
  /** The correlation and filter documents that passed their own checks (references unresolved). */
  readonly correlations: Correlation[]
  readonly filters: Filter[]
  readonly diagnostics: Diagnostic[]
}

/** ajv's validator for `ruleSchema`, generated ahead of time (scripts/generate-schema-validator.mjs). */
function schemaCheck(value: unknown): ErrorObject[] {
  const validate = validateRule as ((v: unknown) => boolean) & { errors?: ErrorObject[] | null }
  return validate(value) ? [] : [...(validate.errors ?? [])]
}

const isMap = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)
const OPTIONAL_TEXT = ['id', 'name', 'status', 'level', 'description', 'author', 'date', 'modified', 'license'] as const
/** A logsource map whose known keys, where present, are strings (as the schema requires). */
const isLogSource = (v: unknown): v is Rule['logsource'] =>
  isMap(v) &&
  ['category', 'product', 'service', 'definition'].every((k) => v[k] === undefined || typeof v[k] === 'string')

/** Load every document of one file's text. */
export function loadRuleText(text: string, file: string, options: LoadOptions = {}): Loaded {
  const rules: Rule[] = []
  const others: OtherDocument[] = []
  const correlations: Correlation[] = []
  const filters: Filter[] = []
  const diagnostics: Diagnostic[] = []
  const bounds = limits()
  const { documents, error: yamlError } = parseYaml(text, {
    maxDocuments: bounds.documents,
    maxNodes: bounds.aliasExpansion,
  })
  if (yamlError) {
    diagnostics.push(
      yamlError.code
        ? error(yamlError.code, yamlError.message, yamlError.at, file)
        : error('yaml/syntax', `invalid YAML: ${yamlError.message}`, yamlError.at, file),
    )
    return { rules, others, correlations, filters, diagnostics }
  }
  const nonEmpty = documents.filter((d) => d.value !== null && d.value !== undefined)
  if (nonEmpty.length === 0)
    diagnostics.push(error('yaml/empty', 'the file holds no YAML document', { line: 0, col: 0 }, file))
  const legacy = nonEmpty.find((d) => isMap(d.value) && 'action' in d.value)
  if (legacy) {
    // The whole file is one Sigma v1 collection: its other documents are fragments, not rules.
    const action = isMap(legacy.value) ? legacy.value['action'] : undefined
    diagnostics.push(
      error(
        'rule/legacy-collection',
        `'action: ${String(action)}' rule collections are legacy Sigma (v1) and not supported; write each rule as a document of its own`,
        legacy.locate(['action'])?.key ?? legacy.at,
        file,
      ),
    )
    return { rules, others, correlations, filters, diagnostics }
  }
  for (const doc of nonEmpty) {
    const value = doc.value
    if (!isMap(value)) {
      diagnostics.push(error('yaml/not-a-map', 'a Sigma document must be a YAML map (key: value lines)', doc.at, file))
      continue
    }
    if ('action' in value) {
      diagnostics.push(
        error(
          'rule/legacy-collection',
          `'action: ${String(value['action'])}' rule collections are legacy Sigma (v1) and not supported; write each rule as a document of its own`,
          doc.locate(['action'])?.key ?? doc.at,
          file,
        ),
      )
      continue
    }
    if ('correlation' in value) {
      others.push({ kind: 'correlation', file, at: doc.at, ...meta(value) })
      const loaded = loadCorrelation(value, doc, file)
      diagnostics.push(...loaded.diagnostics)
      if (loaded.correlation) correlations.push(loaded.correlation)
      continue
    }
    if ('filter' in value && !('detection' in value)) {
      others.push({ kind: 'filter', file, at: doc.at, ...meta(value) })
      const loaded = loadFilter(value, doc, file, options.placeholders)
      diagnostics.push(...loaded.diagnostics)
      if (loaded.filter) filters.push(loaded.filter)
      continue
    }
    const rule = loadRule(value, doc, file, options, diagnostics)
    if (rule) rules.push(rule)
  }
  return { rules, others, correlations, filters, diagnostics }
}

function meta(value: Record<string, unknown>): { title?: string; id?: string; name?: string } {
  return {
    ...(typeof value['title'] === 'string' ? { title: value['title'] } : {}),
    ...(typeof value['id'] === 'string' ? { id: value['id'] } : {}),
    ...(typeof value['name'] === 'string' ? { name: value['name'] } : {}),
  }
}

function loadRule(
  value: Record<string, unknown>,
  doc: YamlDocument,
  file: string,
  options: LoadOptions,
  diagnostics: Diagnostic[],
): Rule | undefined {
  const before = diagnostics.length
  for (const e of schemaCheck(value))
    diagnostics.push(misplacedCondition(e, value, doc, file) ?? schemaDiagnostic(e, doc, file))
  diagnostics.push(...checkMetadata(value, doc, file))
  const schemaOk = !diagnostics
    .slice(before)
    .some((d) => d.severity === 'error' && (d.code === 'rule/schema' || d.code === 'rule/misplaced-condition'))
  if (!schemaOk) return undefined
  const detectionMap = value['detection']
  const logsource = value['logsource']
  // The schema (checked just above) makes both maps, and logsource's known keys strings.
  if (!isMap(detectionMap)) throw new InternalError('internal error: the schema admitted a detection that is no map')
  if (!isLogSource(logsource)) throw new InternalError('internal error: the schema admitted a logsource that is no map')
  const tooMany = valuesOverLimit(detectionMap, doc, file)
  if (tooMany) {
    diagnostics.push(tooMany)
    return undefined
  }
  const detection = buildDetection(detectionMap, {
    doc,
    file,
    diagnostics,
    ...(options.placeholders ? { placeholders: options.placeholders } : {}),
  })
  if (!detection || diagnostics.slice(before).some((d) => d.severity === 'error')) return undefined
  const str = (k: string): string | undefined => {
    const v = value[k]
    return typeof v === 'string' ? v : undefined
  }
  const list = (k: string): string[] => {
    const v = value[k]
    return Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : []
  }
  // The optional text keys the rule has, in this order.
  const optional: { -readonly [K in (typeof OPTIONAL_TEXT)[number]]?: string } = {}
  for (const k of OPTIONAL_TEXT) {
    const v = str(k)
    if (v !== undefined) optional[k] = v
  }
  const idAt = doc.locate(['id'])?.value
  return {
    file,
    at: doc.at,
    ...(idAt ? { idAt } : {}),
    title: must(str('title'), 'the schema requires a title'),
    ...optional,
    references: list('references'),
    tags: list('tags'),
    falsepositives: list('falsepositives'),
    fields: list('fields'),
    logsource,
    detection,
    raw: value,
  }
}

/** The first list under a search identifier longer than `limits.values-per-field`. */
function valuesOverLimit(detection: Record<string, unknown>, doc: YamlDocument, file: string): Diagnostic | undefined {
  const max = limits().valuesPerField
  const over = (list: unknown, path: (string | number)[], what: string): Diagnostic | undefined =>
    Array.isArray(list) && list.length > max
      ? error(
          'limit/values',
          `${what} lists ${list.length} values, over the limit of ${max} (${limitKey('valuesPerField')} in .rulesmith.yml)`,
          doc.locate(path)?.value ?? doc.at,
          file,
        )
      : undefined
  for (const [name, body] of Object.entries(detection)) {
    if (name === 'condition') continue
    const found = over(body, ['detection', name], `'${name}'`)
    if (found) return found
    const maps = Array.isArray(body) ? body.map((m, i) => [m, i] as const) : [[body, undefined] as const]
    for (const [m, i] of maps) {
      if (!isMap(m)) continue
      for (const [field, v] of Object.entries(m)) {
        const path = i === undefined ? ['detection', name, field] : ['detection', name, i, field]
        const hit = over(v, path, `'${field}'`)
        if (hit) return hit
      }
    }
  }
  return undefined
}

/** `condition` indented one level too deep lands inside a search identifier: say so. */
function misplacedCondition(
  e: ErrorObject,
  value: Record<string, unknown>,
  doc: YamlDocument,
  file: string,
): Diagnostic | undefined {
  if (
    e.keyword !== 'required' ||
    e.instancePath !== '/detection' ||
    Reflect.get(e.params, 'missingProperty') !== 'condition'
  )
    return undefined
  const detection = value['detection']
  if (!isMap(detection)) return undefined
  const holder = Object.keys(detection).find((k) => {
    const search = detection[k]
    return isMap(search) && 'condition' in search
  })
  if (!holder) return undefined
  return error(
    'rule/misplaced-condition',
    `'condition' is indented inside '${holder}'; it must be a key of detection, at the same indentation as '${holder}'`,
    doc.locate(['detection', holder, 'condition'])?.key ?? doc.at,
    file,
  )
}

function schemaDiagnostic(e: ErrorObject, doc: YamlDocument, file: string): Diagnostic {
  const path = e.instancePath
    .split('/')
    .slice(1)
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p))
  const where = path.length ? path.join('.') : 'the rule'
  const loc = doc.locate(path)
  const params: Record<string, unknown> = e.params
  let message: string
  let code: DiagnosticCode = 'rule/schema'
  switch (e.keyword) {
    case 'required':
      message = `${where} is missing the required key '${String(params['missingProperty'])}'`
      break
    case 'enum':
      message = `${where} must be one of ${(Array.isArray(params['allowedValues']) ? params['allowedValues'] : []).map((v) => JSON.stringify(v)).join(', ')}`
      break
    case 'pattern':
      if (path[0] === 'tags') {
        code = 'rule/invalid-tag'
        message = `tag ${JSON.stringify(getAt(doc.value, path))} must be lower-case 'namespace.name' (letters, digits, _ . -)`
      } else if (path[0] === 'date' || path[0] === 'modified') {
        code = 'rule/invalid-date'
        message = `${where} ${JSON.stringify(getAt(doc.value, path))} is not a date in YYYY-MM-DD form`
      } else message = `${where} ${e.message ?? 'is invalid'}`
      break
    default:
      message = `${where} ${e.message ?? 'is invalid'}`
  }
  return error(code, message, loc?.value ?? doc.at, file)
}

function getAt(value: unknown, path: readonly (string | number)[]): unknown {
  let cur = value
  for (const p of path) cur = cur !== null && typeof cur === 'object' ? Reflect.get(cur, p) : undefined
  return cur
}

/** Sample-event files live beside rules; they are not rules. */
export const isTestsFile = (name: string): boolean => /\.tests\.ya?ml$/i.test(name)

/**
 * Expand files and folders (recursively) into rule files, sorted for deterministic output.
 * Symbolic links are resolved: a loop is `io/symlink-loop`; a link inside a folder that leads
 * outside the folder given on the command line is not followed (a warning names it) unless
 * `--follow-links`; a folder reached twice (a link to an ancestor) is walked once. Paths named
 * on the command line are taken as given. Non-regular files are kept here and refused by the
 * reader (src/input-file.ts), which says what they are.
 */
export function collectFiles(paths: readonly string[]): { files: string[]; diagnostics: Diagnostic[] } {
  const files: string[] = []
  const diagnostics: Diagnostic[] = []
  const walked = new Set<string>()
  const inside = (real: string, root: string) =>
    real === root || real.startsWith(root.endsWith(sep) ? root : root + sep)
  const walk = (dir: string, root: string) => {
    let real: string
    try {
      real = realpathSync(dir)
    } catch (e) {
      diagnostics.push(ioDiagnostic(e, dir, 'folder'))
      return
    }
    if (walked.has(real)) return
    walked.add(real)
    let entries: Dirent[]
    try {
      // With each entry's type, as the folder lists it: only a link needs a look of its own.
      entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
        a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
      )
    } catch (e) {
      diagnostics.push(ioDiagnostic(e, dir, 'folder'))
      return
    }
    for (const entry of entries) {
      const name = entry.name
      if (name.startsWith('.') || name === 'node_modules') continue
      const full = join(dir, name)
      if (!entry.isSymbolicLink()) {
        if (entry.isDirectory()) walk(full, root)
        else if (/\.ya?ml$/i.test(name) && !isTestsFile(name)) files.push(full)
        continue
      }
      let st: Stats
      try {
        st = lstatSync(full)
        if (st.isSymbolicLink()) {
          const target = realpathSync(full)
          if (!followsLinks() && !inside(target, root)) {
            if (st.isSymbolicLink() && (/\.ya?ml$/i.test(name) || statSync(full).isDirectory()))
              diagnostics.push(
                warning(
                  'io/link-outside',
                  `not following the symbolic link '${full}': it leads to '${target}', outside '${root}' (--follow-links follows it)`,
                  undefined,
                  full,
                ),
              )
            continue
          }
          st = statSync(full)
        }
      } catch (e) {
        if (/\.ya?ml$/i.test(name) || errnoCode(e) === 'ELOOP') diagnostics.push(ioDiagnostic(e, full))
        continue
      }
      if (st.isDirectory()) walk(full, root)
      else if (/\.ya?ml$/i.test(name) && !isTestsFile(name)) files.push(full)
    }
  }
  for (const p of paths) {
    try {
      const st = statSync(p)
      if (st.isDirectory()) walk(p, realpathSync(p))
      else files.push(p)
    } catch (e) {
      diagnostics.push(ioDiagnostic(e, p))
    }
  }
  return { files: [...new Set(files)], diagnostics }
}

/** Load one file; a file that cannot be read as UTF-8 text within the limits is a diagnostic. */
export function loadFile(file: string, options: LoadOptions = {}): Loaded {
  const read = readInputFile(file, 'rule file')
  if ('diagnostic' in read)
    return { rules: [], others: [], correlations: [], filters: [], diagnostics: [read.diagnostic] }
  return loadRuleText(read.text, file, options)
}

/** Load every rule under the given paths, with the checks that span files (duplicate ids). */
export function loadPaths(
  paths: readonly string[],
  options: LoadOptions = {},
): Loaded & { files: string[]; resolved: ResolvedCorrelation[] } {
  const { files, diagnostics } = collectFiles(paths)
  const rules: Rule[] = []
  const others: OtherDocument[] = []
  const correlations: Correlation[] = []
  const filters: Filter[] = []
  for (const file of files) {
    const loaded = loadFile(file, options)
    rules.push(...loaded.rules)
    others.push(...loaded.others)
    correlations.push(...loaded.correlations)
    filters.push(...loaded.filters)
    diagnostics.push(...loaded.diagnostics)
  }
  diagnostics.push(...crossFileChecks(rules, others))
  // References by id or name across every file given; global filters folded into the rules they name.
  const resolution = resolveDocuments(rules, correlations, filters, failedCorrelations(others, correlations))
  diagnostics.push(...resolution.diagnostics)
  return {
    rules: [...resolution.rules],
    others,
    correlations,
    filters,
    diagnostics,
    files,
    resolved: [...resolution.correlations],
  }
}

/**
 * The rules and other documents under `paths` that can clash with the given ids and titles, for
 * the checks that span files (`validate --all-from`): the same list `loadPaths` would give, less
 * every file none of whose documents has one of those ids or (lower-cased) titles. Such a file
 * adds nothing a clash could be reported against, so it is only read and searched (or, when the
 * search cannot rule it out, parsed), not checked and built; a file that may clash is loaded in
 * full, so what is reported is unchanged.
 * Files in `skip` (the ones given themselves) are left out.
 */
export function loadClashCandidates(
  paths: readonly string[],
  wanted: { readonly ids: ReadonlySet<string>; readonly titles: ReadonlySet<string> },
  skip: ReadonlySet<string>,
  options: LoadOptions = {},
): { rules: Rule[]; others: OtherDocument[]; diagnostics: Diagnostic[] } {
  const rules: Rule[] = []
  const others: OtherDocument[] = []
  const bounds = limits()
  // A folder that cannot be read is reported: the cross-file checks would otherwise pass unseen.
  const { files, diagnostics } = collectFiles(paths)
  // A text search first (src/rule/clash-prefilter.ts): most files cannot hold the ids and titles
  // at all, and are not parsed.
  const mayClash = clashPrefilter(wanted)
  for (const file of files) {
    if (skip.has(resolve(file))) continue
    const read = readInputFile(file, 'rule file')
    if ('diagnostic' in read || !mayClash(read.text)) continue
    const { documents } = parseYaml(read.text, { maxDocuments: bounds.documents, maxNodes: bounds.aliasExpansion })
    const clashes = documents.some(
      ({ value: v }) =>
        isMap(v) &&
        ((typeof v['id'] === 'string' && wanted.ids.has(v['id'])) ||
          (typeof v['title'] === 'string' && wanted.titles.has(v['title'].toLowerCase()))),
    )
    if (!clashes) continue
    const loaded = loadRuleText(read.text, file, options)
    rules.push(...loaded.rules)
    others.push(...loaded.others)
  }
  return { rules, others, diagnostics }
}

/** Ids and names of correlation documents that failed their own checks (already reported). */
export function failedCorrelations(
  others: readonly OtherDocument[],
  correlations: readonly Correlation[],
): Set<string> {
  return new Set(
    others
      .filter((o) => o.kind === 'correlation')
      .flatMap((o) => [o.id, o.name])
      .filter((k): k is string => k !== undefined && !correlations.some((c) => c.id === k || c.name === k)),
  )
}

/** What the checks across files read of a rule: where it is and what it is called. */
export interface RuleIdentity {
  readonly file: string
  readonly at: Pos
  readonly idAt?: Pos
  readonly id?: string
  readonly title?: string
}

/** Duplicate ids (error, rules and other documents alike) and duplicate rule titles (warning). */
export function crossFileChecks(rules: readonly RuleIdentity[], others: readonly OtherDocument[] = []): Diagnostic[] {
  const out: Diagnostic[] = []
  const byId = new Map<string, { file: string; at: Pos }>()
  const byTitle = new Map<string, { file: string; at: Pos }>()
  const all: Array<{ doc: RuleIdentity; rule: boolean }> = [
    ...rules.map((doc) => ({ doc, rule: true })),
    ...others.map((doc) => ({ doc, rule: false })),
  ]
  for (const { doc: r, rule } of all) {
    const idAt = r.idAt ?? r.at
    if (r.id) {
      const first = byId.get(r.id)
      if (first)
        out.push(
          error('rule/duplicate-id', `id ${r.id} is also used by ${first.file}:${first.at.line + 1}`, idAt, r.file),
        )
      else byId.set(r.id, { file: r.file, at: idAt })
    }
    if (rule && r.title) {
      const key = r.title.toLowerCase()
      const first = byTitle.get(key)
      if (first)
        out.push(
          warning(
            'rule/duplicate-title',
            `title '${r.title}' is also used by ${first.file}:${first.at.line + 1}`,
            r.at,
            r.file,
          ),
        )
      else byTitle.set(key, { file: r.file, at: r.at })
    }
  }
  return out
}
