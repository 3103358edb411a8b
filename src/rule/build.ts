/**
 * Build the detection AST from a rule's `detection` map: search identifiers (maps AND, lists
 * OR, keywords), field keys with their modifiers, and the condition. Every problem becomes a
 * diagnostic pointing at the key or value it is about.
 */
import type { DiagnosticCode } from '../diagnostics.js'
import { and, not, or, type CompareOp, type Node, type Pattern, type Pos } from '../ast/nodes.js'
import { ANY, normalize, patternToSigma } from '../ast/pattern.js'
import { parseCondition, type Condition } from '../../grammars/condition.js'
import { error, warning, type Diagnostic } from '../diagnostics.js'
import { parseCidr } from '../evaluate/cidr.js'
import { EXCLUSIVE, MODIFIERS, type ModifierKind } from './modifiers.js'
import { base64, base64Offsets, bytesToText, encodeUtf16, parsePattern, windash, type Encoding } from './values.js'
import type { Path, YamlDocument } from './yaml.js'
import { pythonText, readYaml11 } from './yaml11.js'
import { entryOf, errorMessage, first, InternalError, isOneOf, itemAt, must } from '../guards.js'
import { limitKey, limits } from '../limits.js'

export interface BuildContext {
  readonly doc: YamlDocument
  readonly file: string
  /** Values for `|expand` placeholders, by name without the `%`. */
  readonly placeholders?: Readonly<Record<string, readonly string[]>>
  readonly diagnostics: Diagnostic[]
}

type Scalar = string | number | boolean | null
const isScalar = (v: unknown): v is Scalar =>
  v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
/** A YAML value that is neither a map nor a list (checked by the caller): a scalar. */
const scalar = (v: unknown): Scalar => {
  if (!isScalar(v)) throw new InternalError(`internal error: a YAML ${typeof v} where a scalar was checked`)
  return v
}
const COMPARE_OPS: readonly CompareOp[] = ['gt', 'gte', 'lt', 'lte']
const ENCODINGS: readonly Encoding[] = ['wide', 'utf16le', 'utf16be', 'utf16']

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v)

export function buildDetection(detection: Record<string, unknown>, ctx: BuildContext): Node | undefined {
  const base: Path = ['detection']
  const conditionValue = detection['condition']
  const identifiers = Object.keys(detection).filter((k) => k !== 'condition' && k !== 'timeframe')
  const searches = new Map<string, Node | undefined>()
  for (const name of identifiers) searches.set(name, buildSearch(detection[name], [...base, name], ctx))
  const scope = new ConditionScope(searches)

  if (Array.isArray(conditionValue)) {
    // The spec allows a list of conditions (OR-ed); the JSON schema only a string.
    const parts = conditionValue.map((c, i) => buildCondition(c, [...base, 'condition', i], scope, ctx))
    if (!parts.every((p) => p !== undefined)) return undefined
    reportUnused(identifiers, conditionValue.map(String), scope, ctx)
    return or(parts)
  }
  const node = buildCondition(conditionValue, [...base, 'condition'], scope, ctx)
  if (typeof conditionValue === 'string') reportUnused(identifiers, [conditionValue], scope, ctx)
  return node
}

/**
 * What a detection's conditions are lowered against: its search identifiers, which `x*` patterns
 * match which of them, and how far the conditions have expanded so far.
 *
 * A condition is short text that can mean a very large query: `1 of them or 1 of them …` names
 * every search once per term, `sel or sel …` one large list many times, and each `x*` pattern is
 * tested against the identifiers. Written out, 2,000 terms of `1 of them` over 2,000 one-value
 * searches were a 91 MB SPL query and 1.3 GB of memory, and 4,000 exhaust the heap. So the
 * expansion is counted as it is made, and a condition past limits.condition-expansion is refused
 * before it is built: a value counts once for each time the condition names its search (directly
 * or through `1 of`, `all of` or `them`), and an identifier once for each distinct pattern it is
 * tested against. Patterns are matched through the identifiers sorted by name, so a pattern with a
 * literal start (`selection_*`, nearly all of them) tests only the identifiers that start so,
 * and each distinct pattern is matched once.
 */
class ConditionScope {
  readonly names: readonly string[]
  /** The identifiers' positions in `names`, sorted by name (UTF-16 code units, as `<` compares). */
  private readonly byName: readonly number[]
  private readonly matches = new Map<string, readonly string[]>()
  private readonly sizes = new Map<string, number>()
  private them: readonly string[] | undefined
  /** Values and pattern tests counted so far, over every condition of the detection. */
  private spent = 0
  /** Set once the budget is exceeded: lowering stops and the unused-identifier check is skipped. */
  exceeded = false

  constructor(readonly searches: ReadonlyMap<string, Node | undefined>) {
    this.names = [...searches.keys()]
    const names = this.names
    this.byName = names.map((_, i) => i).sort((a, b) => compareNames(itemAt(names, a), itemAt(names, b)))
  }

  /** The identifiers `1 of them` names: all but those starting with `_`, in detection order. */
  themNames(): readonly string[] {
    this.them ??= this.names.filter((n) => !n.startsWith('_'))
    return this.them
  }

  /** The identifiers an `x*` pattern matches, in detection order. */
  matching(pattern: string): readonly string[] {
    const known = this.matches.get(pattern)
    if (known) return known
    const star = pattern.indexOf('*')
    const prefix = star < 0 ? pattern : pattern.slice(0, star)
    // The run of sorted names that start with `prefix`.
    const names = this.names
    const byName = this.byName
    let lo = 0
    let hi = byName.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      if (compareNames(itemAt(names, itemAt(byName, mid)), prefix) < 0) lo = mid + 1
      else hi = mid
    }
    const re = star < 0 ? undefined : namePattern(pattern)
    const found: number[] = []
    for (let k = lo; k < byName.length; k++) {
      const i = itemAt(byName, k)
      const name = itemAt(names, i)
      if (!name.startsWith(prefix)) break
      this.spend(1)
      if (re ? re.test(name) : name === pattern) found.push(i)
    }
    const matched = found.sort((a, b) => a - b).map((i) => itemAt(names, i))
    this.matches.set(pattern, matched)
    return matched
  }

  /** The number of values search `name` holds (its leaves). */
  size(name: string): number {
    let n = this.sizes.get(name)
    if (n === undefined) {
      const node = this.searches.get(name)
      n = node ? leafCount(node) : 0
      this.sizes.set(name, n)
    }
    return n
  }

  /** Count `n` more; false (and `exceeded` set) once the total passes the limit. */
  spend(n: number): boolean {
    this.spent += n
    if (this.spent > limits().conditionExpansion) this.exceeded = true
    return !this.exceeded
  }
}

/** Code-unit order, the order `startsWith` runs are contiguous in. */
const compareNames = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

function leafCount(node: Node): number {
  switch (node.kind) {
    case 'And':
    case 'Or': {
      let n = 0
      for (const item of node.items) n += leafCount(item)
      return n
    }
    case 'Not':
      return leafCount(node.item)
    default:
      return 1
  }
}

function at(ctx: BuildContext, path: Path, which: 'key' | 'value' = 'value'): Pos | undefined {
  return ctx.doc.pos(path, which)
}

function buildCondition(value: unknown, path: Path, scope: ConditionScope, ctx: BuildContext): Node | undefined {
  if (typeof value !== 'string') {
    ctx.diagnostics.push(error('rule/condition-type', 'detection.condition must be a string', at(ctx, path), ctx.file))
    return undefined
  }
  const { condition, errors } = parseCondition(value)
  if (!condition) {
    for (const e of errors)
      ctx.diagnostics.push(
        error(
          e.message.startsWith('aggregation') ? 'cond/aggregation' : 'cond/syntax',
          e.message,
          ctx.doc.inside(path, e.offset) ?? at(ctx, path),
          ctx.file,
        ),
      )
    return undefined
  }
  if (scope.exceeded) return undefined // an earlier condition of the list was refused for its size
  let ok = true
  const { names, searches } = scope
  /** Count the values of the searches `named` is about to name; false once past the limit. */
  const expand = (named: readonly string[]): boolean => {
    let n = 0
    for (const name of named) n += scope.size(name)
    if (scope.spend(n)) return true
    const max = limits().conditionExpansion
    ctx.diagnostics.push(
      error(
        'limit/condition-expansion',
        `the condition expands to more than ${max} values (each search counted every time the condition names it, through 1 of / all of / them too) (${limitKey('conditionExpansion')} in .rulesmith.yml)`,
        at(ctx, path),
        ctx.file,
      ),
    )
    ok = false
    return false
  }
  const lower = (c: Condition): Node | undefined => {
    if (scope.exceeded) return undefined
    switch (c.kind) {
      case 'and':
      case 'or': {
        const items = c.items.map(lower)
        if (!items.every((i) => i !== undefined)) return undefined
        return c.kind === 'and' ? and(items) : or(items)
      }
      case 'not': {
        const item = lower(c.item)
        return item && not(item)
      }
      case 'ref': {
        if (!searches.has(c.name)) {
          ctx.diagnostics.push(
            error(
              'rule/undefined-identifier',
              `condition refers to '${c.name}', which is not defined in detection${suggest(c.name, names)}`,
              ctx.doc.inside(path, c.offset),
              ctx.file,
            ),
          )
          ok = false
          return undefined
        }
        if (!expand([c.name])) return undefined
        return searches.get(c.name)
      }
      case 'of': {
        const matched = c.them ? scope.themNames() : scope.matching(c.target)
        if (scope.exceeded) return void expand([])
        if (matched.length === 0) {
          const what = c.them
            ? 'no search identifiers (those starting with _ are excluded from them)'
            : `no search identifier matches '${c.target}'`
          ctx.diagnostics.push(
            error(
              'rule/undefined-identifier',
              `'${c.quantifier === 'one' ? '1' : 'all'} of ${c.target}': ${what}`,
              ctx.doc.inside(path, c.targetOffset),
              ctx.file,
            ),
          )
          ok = false
          return undefined
        }
        if (!expand(matched)) return undefined
        const items = matched.map((n) => searches.get(n))
        if (!items.every((i) => i !== undefined)) return undefined
        return c.quantifier === 'one' ? or(items) : and(items)
      }
    }
  }
  const node = lower(condition)
  return ok && !scope.exceeded ? node : undefined
}

const namePatterns = new Map<string, RegExp>()

function namePattern(pattern: string): RegExp {
  let re = namePatterns.get(pattern)
  if (!re) {
    re = compileNamePattern(pattern)
    if (namePatterns.size >= 10_000) namePatterns.clear() // shared by every rule of a long-lived process
    namePatterns.set(pattern, re)
  }
  return re
}

function compileNamePattern(pattern: string): RegExp {
  return new RegExp(
    '^' +
      pattern
        .split('*')
        .map((p) => p.replace(/[.+?^${}()|[\]\\-]/g, '\\$&'))
        .join('.*') +
      '$',
  )
}

function suggest(name: string, names: readonly string[]): string {
  const close = names.find((n) => n.toLowerCase() === name.toLowerCase() || editDistance(n, name) <= 2)
  return close ? ` (did you mean '${close}'?)` : ''
}

function editDistance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) first(d)[j] = j
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      itemAt(d, i)[j] = Math.min(
        itemAt(itemAt(d, i - 1), j) + 1,
        itemAt(itemAt(d, i), j - 1) + 1,
        itemAt(itemAt(d, i - 1), j - 1) + (a[i - 1] === b[j - 1] ? 0 : 1),
      )
  return itemAt(itemAt(d, a.length), b.length)
}

/** Warn about identifiers that no condition uses (directly, by pattern, or through `them`). */
function reportUnused(
  identifiers: readonly string[],
  conditions: readonly string[],
  scope: ConditionScope,
  ctx: BuildContext,
): void {
  // Refused for its size: its patterns were not all matched, and matching them here is the work the limit stops.
  if (scope.exceeded) return
  const used = new Set<string>()
  const seen = new Set<string>() // each distinct `x*` pattern (and `them`) marks its identifiers once
  for (const text of conditions) {
    const { condition } = parseCondition(text)
    if (!condition) return
    const visit = (c: Condition): void => {
      if (c.kind === 'and' || c.kind === 'or') c.items.forEach(visit)
      else if (c.kind === 'not') visit(c.item)
      else if (c.kind === 'ref') used.add(c.name)
      else {
        const key = c.them ? '' : c.target // '' is no pattern: the grammar's names are never empty
        if (seen.has(key)) return
        seen.add(key)
        for (const n of c.them ? scope.themNames() : scope.matching(c.target)) used.add(n)
      }
    }
    visit(condition)
  }
  if (scope.exceeded) return
  for (const name of identifiers) {
    if (!used.has(name))
      ctx.diagnostics.push(
        warning(
          'rule/unused-identifier',
          `search identifier '${name}' is never used in the condition`,
          at(ctx, ['detection', name], 'key'),
          ctx.file,
        ),
      )
  }
}

/** A search identifier: a map (AND of fields), a list of maps (OR), or keywords. */
function buildSearch(value: unknown, path: Path, ctx: BuildContext): Node | undefined {
  if (isPlainObject(value)) return buildMap(value, path, ctx)
  if (Array.isArray(value)) {
    if (value.length === 0) {
      ctx.diagnostics.push(
        error(
          'rule/empty-search',
          `search identifier '${String(path[path.length - 1])}' is an empty list`,
          at(ctx, path),
          ctx.file,
        ),
      )
      return undefined
    }
    const items = value.map((item, i) => {
      const p = [...path, i]
      if (isPlainObject(item)) return buildMap(item, p, ctx)
      if (Array.isArray(item)) {
        ctx.diagnostics.push(
          error('rule/value-type', 'a list inside a search list is not allowed', at(ctx, p), ctx.file),
        )
        return undefined
      }
      return buildField('', [], [scalar(item)], p, [p], ctx)
    })
    return items.every((i) => i !== undefined) ? or(items as Node[]) : undefined
  }
  if (value === null || value === undefined) {
    ctx.diagnostics.push(
      error(
        'rule/empty-search',
        `search identifier '${String(path[path.length - 1])}' has no value`,
        at(ctx, path),
        ctx.file,
      ),
    )
    return undefined
  }
  return buildField('', [], [scalar(value)], path, [path], ctx)
}

function buildMap(map: Record<string, unknown>, path: Path, ctx: BuildContext): Node | undefined {
  const keys = Object.keys(map)
  if (keys.length === 0) {
    ctx.diagnostics.push(
      error('rule/empty-search', 'a search map must have at least one field', at(ctx, path), ctx.file),
    )
    return undefined
  }
  const items = keys.map((key) => {
    const p = [...path, key]
    const [field, ...mods] = key.split('|')
    const raw = map[key]
    if (isPlainObject(raw)) {
      ctx.diagnostics.push(
        error(
          'rule/value-type',
          `field '${key}' has a map as its value; use a list of values or a new selection`,
          at(ctx, p),
          ctx.file,
        ),
      )
      return undefined
    }
    if (Array.isArray(raw)) {
      if (raw.length === 0) {
        ctx.diagnostics.push(
          error('rule/empty-value', `field '${key}' has an empty list of values`, at(ctx, p), ctx.file),
        )
        return undefined
      }
      const bad = raw.findIndex((v) => v !== null && typeof v === 'object')
      if (bad >= 0) {
        ctx.diagnostics.push(
          error(
            'rule/value-type',
            `field '${key}': a value must be a string, number or boolean`,
            at(ctx, [...p, bad]),
            ctx.file,
          ),
        )
        return undefined
      }
      return buildField(
        must(field, 'split gives at least one part'),
        mods,
        raw.map(scalar),
        p,
        raw.map((_, i) => [...p, i]),
        ctx,
        true,
      )
    }
    return buildField(must(field, 'split gives at least one part'), mods, [scalar(raw)], p, [p], ctx)
  })
  return items.every((i) => i !== undefined) ? and(items as Node[]) : undefined
}

/**
 * One field key with its modifiers and values. `field` is '' for keywords. `valuePaths[i]`
 * locates value i; `isList` tells a one-element list from a scalar (for `null` checks).
 */
function buildField(
  field: string,
  mods: string[],
  values: Scalar[],
  keyPath: Path,
  valuePaths: Path[],
  ctx: BuildContext,
  isList = false,
): Node | undefined {
  const keyAt = at(ctx, keyPath, 'key')
  const fail = (code: DiagnosticCode, message: string, pos: Pos | undefined = keyAt): undefined => {
    ctx.diagnostics.push(error(code, message, pos, ctx.file))
    return undefined
  }
  const label = field === '' ? 'keywords' : `field '${field}'`

  // 1. Every modifier must be known and supported.
  const kinds: ModifierKind[] = []
  for (const m of mods) {
    const kind = MODIFIERS[m]
    if (kind === undefined) {
      const close = Object.keys(MODIFIERS).find((k) => editDistance(k, m.toLowerCase()) <= 1 && k.length > 2)
      return fail(
        'rule/unknown-modifier',
        `unknown modifier '${m}' on ${label}${close ? ` (did you mean '${close}'?)` : ''}`,
      )
    }
    if (kind === 'time')
      return fail('rule/unsupported-modifier', `modifier '${m}' (time part extraction) is not supported by rulesmith`)
    kinds.push(kind)
  }
  const has = (k: ModifierKind) => kinds.includes(k)
  if (mods.length > 1) {
    const count = (name: string) => mods.filter((m) => m === name).length
    for (const m of new Set(mods))
      if (count(m) > 1) return fail('rule/modifier-conflict', `modifier '${m}' is given twice on ${label}`)
    if (kinds.filter((k) => k === 'shape').length > 1)
      return fail('rule/modifier-conflict', `only one of contains, startswith, endswith may be used on ${label}`)
    for (const [kind, friends] of Object.entries(EXCLUSIVE)) {
      if (!kinds.some((k) => k === kind)) continue
      const other = mods.find((m) => MODIFIERS[m] !== kind && !friends.includes(entryOf(MODIFIERS, m)))
      if (other)
        return fail(
          'rule/modifier-conflict',
          `modifier '${mods.find((m) => MODIFIERS[m] === kind)}' cannot be combined with '${other}' on ${label}`,
        )
    }
  }
  if (has('regex-flag') && !has('regex'))
    return fail(
      'rule/modifier-conflict',
      `modifier '${mods.find((m) => MODIFIERS[m] === 'regex-flag')}' is a regular-expression flag and needs '|re' before it`,
    )
  if (has('list') && !isList)
    return fail(
      'rule/all-single-value',
      `'|all' needs a list of values; ${label} has a single value (use the value without '|all')`,
    )
  if (has('list') && values.length < 2)
    return fail('rule/all-single-value', `'|all' needs at least two values; ${label} has one`)
  if (field === '' && mods.some((m) => !['all', 'cased', 'windash', 'contains', 'startswith', 'endswith'].includes(m)))
    return fail(
      'rule/modifier-conflict',
      `keywords accept only all, cased, windash and contains/startswith/endswith, not '${mods.join('|')}'`,
    )

  // 1b. A value keeps the text its author wrote: `00000429` is not the number 429, which would
  // also match `00010429`. Only a comparison wants a number (spec: |gt, |gte, |lt, |lte).
  values = values.map((v, i) => keepWrittenText(v, itemAt(valuePaths, i), !has('compare'), ctx))

  // 2. null stands alone.
  const nullAt = values.findIndex((v) => v === null)
  if (nullAt >= 0) {
    if (isList)
      return fail(
        'rule/null-in-list',
        `null cannot be part of a list of values for ${label}; put 'field: null' in a selection of its own`,
        at(ctx, itemAt(valuePaths, nullAt)),
      )
    if (mods.length > 0)
      return fail('rule/modifier-conflict', `null cannot take modifiers ('${mods.join('|')}') on ${label}`)
    if (field === '') return fail('rule/value-type', 'a keyword cannot be null', at(ctx, first(valuePaths)))
    return { kind: 'Null', field, ...(keyAt ? { at: keyAt } : {}) }
  }

  const combine = (nodes: Node[]): Node => (has('list') ? and(nodes) : or(nodes))
  const valueAt = (i: number) => at(ctx, itemAt(valuePaths, i)) ?? keyAt
  const withAt = (i: number) => {
    const p = valueAt(i)
    return p ? { at: p } : {}
  }

  // 3. Modifiers that replace the value's meaning.
  if (has('exists')) {
    const v = values[0]
    if (values.length !== 1 || typeof v !== 'boolean')
      return fail(
        'rule/exists-not-boolean',
        `'|exists' takes true or false, not ${JSON.stringify(values.length === 1 ? v : values)}`,
        valueAt(0),
      )
    const node: Node = { kind: 'Exists', field, ...withAt(0) }
    return v ? node : not(node)
  }
  if (has('compare')) {
    const op = must(
      mods.find((m) => isOneOf(COMPARE_OPS, m)),
      'a compare modifier is gt, gte, lt or lte',
    )
    const nodes: Node[] = []
    for (let i = 0; i < values.length; i++) {
      const v = values[i]
      const n =
        typeof v === 'number' ? v : typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : undefined
      if (n === undefined)
        return fail('rule/compare-not-number', `'|${op}' needs a number, not ${JSON.stringify(v)}`, valueAt(i))
      nodes.push({ kind: 'Compare', field, op, value: n, ...withAt(i) })
    }
    return combine(nodes)
  }
  if (has('cidr')) {
    const nodes: Node[] = []
    for (let i = 0; i < values.length; i++) {
      const v = values[i]
      const c = typeof v === 'string' ? parseCidr(v.trim()) : undefined
      if (!c || typeof v !== 'string' || !v.includes('/'))
        return fail(
          'rule/invalid-cidr',
          `'${String(v)}' is not a CIDR network (like 10.0.0.0/8 or fe80::/10)`,
          valueAt(i),
        )
      nodes.push({ kind: 'Cidr', field, cidr: v.trim(), family: c.family, ...withAt(i) })
    }
    return combine(nodes)
  }
  if (has('regex')) {
    const nodes: Node[] = []
    for (let i = 0; i < values.length; i++) {
      let v = values[i]
      if (typeof v !== 'string')
        return fail('rule/value-type', `'|re' needs a string, not ${JSON.stringify(v)}`, valueAt(i))
      const flags = { i: mods.includes('i'), m: mods.includes('m'), s: mods.includes('s') }
      // PCRE's leading inline flags, `(?i)` and the like, become the node's flags: JavaScript and
      // several targets have no inline flags. Anywhere else they are refused below.
      const inline = /^\(\?([ims]+)\)/.exec(v)
      if (inline) {
        for (const f of itemAt(inline, 1)) if (f === 'i' || f === 'm' || f === 's') flags[f] = true
        v = v.slice(inline[0].length)
      }
      if (/\(\?[a-zA-Z]*[-:)]/.test(v.replace(/\\./g, '')) && !/\(\?[:=!<]/.test(v.replace(/\\./g, '')))
        return fail(
          'rule/unsupported-regex',
          'inline regex flags are supported only at the start of the expression',
          valueAt(i),
        )
      try {
        new RegExp(v, (flags.i ? 'i' : '') + (flags.m ? 'm' : '') + (flags.s ? 's' : ''))
      } catch (e) {
        return fail(
          'rule/invalid-regex',
          `rulesmith cannot read this regular expression: ${errorMessage(e).replace(/^Invalid regular expression: /, '')}`,
          valueAt(i),
        )
      }
      nodes.push({ kind: 'Regex', field, source: v, flags, ...withAt(i) })
    }
    return combine(nodes)
  }
  const cased = has('cased')
  if (has('fieldref')) {
    const nodes: Node[] = []
    for (let i = 0; i < values.length; i++) {
      const v = values[i]
      if (typeof v !== 'string' || v === '')
        return fail('rule/value-type', `'|fieldref' needs a field name, not ${JSON.stringify(v)}`, valueAt(i))
      nodes.push({ kind: 'FieldRef', field, ref: v, cased, ...withAt(i) })
    }
    const node = combine(nodes)
    return has('neq') ? and([not({ kind: 'Null', field }), not(node)]) : node
  }

  // 4. Plain values through the string modifiers, in the order written.
  const nodes: Node[] = []
  for (let i = 0; i < values.length; i++) {
    const v = must(values[i], 'a value inside the list, not null (null returned above)')
    const pos = valueAt(i)
    const alternatives = transformValue(v, mods, (code, message) => fail(code, message, pos), ctx.placeholders)
    if (!alternatives) return undefined
    const make = (pattern: Pattern): Node =>
      field === ''
        ? { kind: 'Keyword', pattern: keywordPattern(pattern, mods), cased, ...(pos ? { at: pos } : {}) }
        : { kind: 'Match', field, pattern, cased, ...(pos ? { at: pos } : {}) }
    nodes.push(or(alternatives.map(make)))
  }
  if (has('neq')) {
    if (field === '') return fail('rule/modifier-conflict', "'|neq' needs a field")
    // "The field is different from the specified values": present, and equal to none of them.
    return and([not({ kind: 'Null', field }), not(or(nodes))])
  }
  return combine(nodes)
}

/** Keywords search inside values: `*kw*`, unless a shape modifier says where. */
function keywordPattern(pattern: Pattern, mods: readonly string[]): Pattern {
  if (mods.some((m) => MODIFIERS[m] === 'shape')) return pattern
  return normalize([ANY, ...pattern, ANY])
}

/**
 * One Sigma value through windash, expand, the encodings and the shape modifiers: the
 * alternative patterns it stands for (OR-ed).
 */
function transformValue(
  value: string | number | boolean,
  mods: readonly string[],
  fail: (code: DiagnosticCode, message: string) => undefined,
  placeholders: Readonly<Record<string, readonly string[]>> | undefined,
): Pattern[] | undefined {
  const text = typeof value === 'string' ? value : String(value)
  if (mods.length === 0 || (mods.length === 1 && mods[0] === 'cased'))
    return [typeof value === 'string' ? parsePattern(text) : [{ kind: 'lit', text }]]
  let patterns: Pattern[]
  if (mods.includes('expand')) {
    const expanded = expandPlaceholders(text, placeholders)
    if (typeof expanded === 'string') return fail('rule/unresolved-placeholder', expanded)
    patterns = expanded
  } else {
    patterns = [typeof value === 'string' ? parsePattern(text) : [{ kind: 'lit', text }]]
  }
  // Bytes, once a utf16 modifier has encoded the value; latin1 text if nothing encodes them further.
  let bytes: Buffer[] | undefined
  for (const m of mods) {
    const kind = MODIFIERS[m]
    if (kind === 'windash') {
      if (bytes) return fail('rule/modifier-conflict', "'|windash' must come before the encoding modifiers")
      const out: Pattern[] = []
      for (const p of patterns) {
        const variants = windash(p)
        if (!variants)
          return fail('rule/value-too-complex', `'|windash' on '${patternToSigma(p)}' makes too many variants`)
        out.push(...variants)
      }
      patterns = out
    } else if (kind === 'utf16' || kind === 'encoding') {
      const literal = (p: Pattern) =>
        p.every((s) => s.kind === 'lit') ? p.map((s) => (s.kind === 'lit' ? s.text : '')).join('') : undefined
      if (!bytes) {
        const texts = patterns.map(literal)
        if (texts.some((t) => t === undefined))
          return fail(
            'rule/modifier-conflict',
            `'|${m}' needs a value without wildcards (escape a literal * or ? as \\* or \\?)`,
          )
        if (kind === 'utf16') {
          const encoding = must(
            ENCODINGS.find((e) => e === m),
            'a utf16 modifier names an encoding',
          )
          bytes = texts.map((t) => encodeUtf16(must(t, 'texts without wildcards (checked above)'), encoding))
          continue
        }
        bytes = texts.map((t) => Buffer.from(must(t, 'texts without wildcards (checked above)'), 'utf8'))
      } else if (kind === 'utf16') {
        return fail('rule/modifier-conflict', `'|${m}' cannot follow another encoding`)
      }
      const encoded = m === 'base64' ? bytes.map(base64) : bytes.flatMap(base64Offsets)
      patterns = encoded.map((t) => [{ kind: 'lit', text: t }])
      bytes = undefined
    } else if (kind === 'shape') {
      if (bytes) {
        patterns = bytes.map((b) => [{ kind: 'lit', text: bytesToText(b) }])
        bytes = undefined
      }
      patterns = patterns.map((p) =>
        normalize(m === 'contains' ? [ANY, ...p, ANY] : m === 'startswith' ? [...p, ANY] : [ANY, ...p]),
      )
    }
  }
  if (bytes) patterns = bytes.map((b) => [{ kind: 'lit', text: bytesToText(b) }])
  // Drop duplicates (windash variants of a value without dashes, base64offset repeats).
  if (patterns.length < 2) return patterns
  const seen = new Set<string>()
  return patterns.filter((p) => {
    const k = JSON.stringify(p)
    return seen.has(k) ? false : (seen.add(k), true)
  })
}

/**
 * `%name%` placeholders with their values (spec, "Placeholders"): `\%` keeps a literal percent.
 * Returns the patterns, or a message naming the placeholder that has no value.
 */
function expandPlaceholders(
  text: string,
  placeholders: Readonly<Record<string, readonly string[]>> | undefined,
): Pattern[] | string {
  const parts: Array<string | { name: string }> = []
  let buf = ''
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\' && text[i + 1] === '%') {
      buf += '%'
      i++
      continue
    }
    if (text[i] === '%') {
      const end = text.indexOf('%', i + 1)
      if (end > i + 1) {
        if (buf) parts.push(buf)
        buf = ''
        parts.push({ name: text.slice(i + 1, end) })
        i = end
        continue
      }
    }
    buf += text[i]
  }
  if (buf) parts.push(buf)
  let results = ['']
  for (const part of parts) {
    if (typeof part === 'string') {
      results = results.map((r) => r + part.replace(/%/g, '%'))
      continue
    }
    const values = placeholders?.[part.name]
    if (!values || values.length === 0)
      return `placeholder %${part.name}% has no value; give its values in .rulesmith.yml under placeholders: (name: [values])`
    results = results.flatMap((r) => values.map((v) => r + v))
  }
  return results.map(parsePattern)
}

/**
 * A plain scalar as the author wrote it, where js-yaml's YAML 1.2 number would lose its form
 * (`00000429`, `0x10`, `1e3`, `+5`); numbers in comparisons stay numbers. Where a YAML 1.1 reader
 * (pySigma) would read the scalar as something else, a warning says so: the same rule then
 * means two things in two tools, and quoting the value removes the doubt.
 */
function keepWrittenText(value: Scalar, path: Path, keepText: boolean, ctx: BuildContext): Scalar {
  const written = ctx.doc.plainText(path)
  if (written === undefined) return value
  const kept: Scalar = keepText && typeof value === 'number' && String(value) !== written ? written : value
  const old = readYaml11(written)
  const same = old === undefined || old === null || (typeof old === 'number' ? kept === old : kept === old)
  if (!same)
    ctx.diagnostics.push(
      warning(
        'rule/yaml-version-ambiguity',
        `YAML 1.1 readers such as pySigma read ${written} as ${pythonText(old)}, rulesmith (YAML 1.2) as ${
          typeof kept === 'string' ? `the text '${kept}'` : String(kept)
        }; quote the value, or write it as you mean it`,
        at(ctx, path),
        ctx.file,
      ),
    )
  return kept
}
