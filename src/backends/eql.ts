/**
 * The Elastic EQL backend: a rule's detection AST → one EQL query (`<category> where <condition>`)
 * over Elastic Common Schema fields. Semantics follow the Elasticsearch EQL syntax reference,
 * https://www.elastic.co/guide/en/elasticsearch/reference/current/eql-syntax.html ("E1" below), and
 * the function reference, https://www.elastic.co/guide/en/elasticsearch/reference/current/eql-function-ref.html
 * ("E2"); the full list of decisions is docs/targets/eql.md.
 *
 * Emitted EQL, for `Image|endswith: '\cmd.exe'` and `CommandLine|contains: ' /c '`:
 *   process where process.executable : "*\\cmd.exe" and process.command_line : "* /c *"
 */
import { patternToSigma, shapeOf } from '../ast/pattern.js'
import type { Node, NodeOf, Pos } from '../ast/nodes.js'
import { parseCidr, parseIp } from '../evaluate/cidr.js'
import { evaluate } from '../evaluate/evaluate.js'
import type { Rule } from '../rule/rule.js'
import type { Backend, Compiled, TargetOptions } from './types.js'
import { COMPARE, lower, operand, type TargetSpec } from './spec.js'
import { unsupportedLogSource } from './environment.js'
import { Refusal, Refusals, refuseRule } from './refusal.js'
import {
  constantsFor,
  isStringType,
  loadEnvironment,
  resolveField,
  resolveLogSource,
  type EqlEnvironment,
  type EqlLogSource,
  type FieldType,
} from './eql-env.js'
import { Inexpressible, patternToLucene, toLucene } from '../regex/lucene.js'
import { translateRegex, unsupportedRegexMessage } from '../regex/index.js'
import { codePointAt, first } from '../guards.js'

/** The language facts the renderer reads. */
export const EQL = {
  id: 'eql',
  contexts: {
    where: {
      and: ' and ',
      or: ' or ',
      not: 'not ',
      // `and` binds tighter than `or`; `not` and comparisons tighter still (E1 "Logical operators").
      bindingPower: { Or: 0, And: 1, Not: 2 },
      // E1 "Escape characters in a string"; other invisible characters are written `\u{XX}` (eqlString).
      string: { quote: '"', escapes: { '\\': '\\\\', '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t' } },
    },
  },
  // not exists / not null: the opposite null test, a plain two-valued comparison.
  passes: ['negatePresence'],
  refuses: {
    // Elasticsearch's QL translator: "Comparisons against fields are not (currently) supported"
    // (ExpressionTranslators.checkBinaryComparison; https://github.com/elastic/elasticsearch/issues/137366).
    FieldRef: 'target/unsupported-fieldref',
    // EQL conditions name their fields.
    Keyword: 'target/unsupported-keyword',
  },
} as const satisfies TargetSpec

const WHERE = EQL.contexts.where
const BP = WHERE.bindingPower

// --- lexical contexts --------------------------------------------------------------------------

/**
 * EQL string literal: double quotes; escapes `\\ \" \n \r \t` and `\u{XX}` for other control
 * characters (E1 "Escape characters in a string"). Values are escaped here, once.
 */
const PLAIN_STRING = /^[^\\"\u0000-\u001f\u007f-\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]*$/
/** Invisible characters (controls, non-ASCII spaces, format marks): written as `\u{…}` so the query stays readable. */
const INVISIBLE = /^[\u0000-\u001f\u007f-\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]$/

export function eqlString(text: string): string {
  if (PLAIN_STRING.test(text)) return `"${text}"`
  let out = '"'
  for (const c of text) {
    const code = codePointAt(c, 0)
    const escaped = (WHERE.string.escapes as Readonly<Record<string, string>>)[c]
    if (escaped !== undefined) out += escaped
    else if (INVISIBLE.test(c)) out += `\\u{${code.toString(16).padStart(2, '0').toUpperCase()}}`
    else out += c
  }
  return out + '"'
}

/** Words of the EQL grammar that cannot be bare field names. */
const RESERVED = new Set([
  'and',
  'any',
  'by',
  'false',
  'in',
  'join',
  'like',
  'maxspan',
  'not',
  'null',
  'of',
  'or',
  'regex',
  'sample',
  'sequence',
  'true',
  'until',
  'where',
  'with',
])
const BARE_FIELD = /^[A-Za-z_@][A-Za-z0-9_@]*(\.[A-Za-z_@][A-Za-z0-9_@]*)*$/

/** A field name, in backticks (a backtick inside doubled) when it is not a plain dotted name (E1 "Escape a field name"). */
export function eqlField(name: string): string {
  if (BARE_FIELD.test(name) && !RESERVED.has(name.toLowerCase())) return name
  return '`' + name.replace(/`/g, '``') + '`'
}

/** The event category: bare when it is an identifier, else a quoted string (E1 "Escape an event category"). */
const eqlCategory = (c: string): string =>
  /^[A-Za-z_][A-Za-z0-9_]*$/.test(c) && !RESERVED.has(c.toLowerCase()) ? c : c === 'any' ? 'any' : eqlString(c)

// --- comparisons ------------------------------------------------------------------------------

/** One predicate on one field; `op` `:`/`like`/`==`/`cidr` may merge with its siblings in an OR. */
interface Comparison {
  readonly field: string
  readonly op: ':' | 'like' | '==' | 'regex' | 'regex~' | 'cidr' | '<' | '<=' | '>' | '>=' | '!= null' | '== null'
  /** Literal text, already escaped. */
  readonly values: readonly string[]
  /** A `==` on a string field, which may merge into `in (…)`; number and ip `==` stay apart. */
  readonly text?: true
  /** A field under a schema prefix (Windows event data): written `?field`, null where unmapped. */
  readonly optional?: boolean
}

/**
 * `?field` for event-data fields: such keys exist only in indices that have seen them, and EQL
 * fails a query naming a field no index maps unless it is written as optional, which reads as
 * null there (E1 "Optional fields").
 */
const fieldText = (c: Comparison): string => (c.optional ? '?' : '') + eqlField(c.field)

function render(c: Comparison): string {
  const f = fieldText(c)
  const list = (vs: readonly string[]) => (vs.length === 1 ? first(vs) : `(${vs.join(', ')})`)
  switch (c.op) {
    case '!= null':
    case '== null':
      return `${f} ${c.op}`
    case 'cidr':
      return `cidrMatch(${f}, ${c.values.join(', ')})`
    case '==':
      // `in` is the case-sensitive list form of `==` (E1 "Lookup operators").
      return c.values.length === 1 ? `${f} == ${c.values[0]}` : `${f} in (${c.values.join(', ')})`
    default:
      return `${f} ${c.op} ${list(c.values)}`
  }
}

const MERGEABLE = new Set<Comparison['op']>([':', 'like', '==', 'cidr'])

/** The refusal code of a construct the Lucene regex writer cannot express. */
function inexpressible(e: Inexpressible, at: Pos | undefined): Refusal {
  const code = e.construct === 'case-folding' ? 'target/unsupported-case-folding' : 'target/unsupported-regex'
  return new Refusal(code, e.reason, at)
}

const CANONICAL_INT = /^-?(0|[1-9]\d{0,14})$/

interface Ctx {
  readonly source: EqlLogSource
  readonly env: EqlEnvironment
  readonly refusals: Refusals
  /** Rewritten fields (EqlLogSource.rewrites) an enclosing condition was found to read alike. */
  readonly rewriteSafe: ReadonlySet<string>
}

function field(ctx: Ctx, sigma: string, at?: Pos): { name: string; type: FieldType } {
  const r = resolveField(sigma, ctx.source, ctx.env)
  if (!r.ok) throw new Refusal('target/unknown-field', `eql cannot search ${sigma}: ${r.reason}`, at)
  // E1 "Text fields are not supported".
  if (r.type === 'text')
    throw new Refusal(
      'target/unsupported-field-type',
      `eql cannot search the text field ${r.name} (for Sigma field ${sigma}): EQL supports keyword fields only`,
      at,
    )
  // EQL rejects flattened fields: "Cannot use field [...] with unsupported type [flattened]"
  // (https://github.com/elastic/elasticsearch/issues/101985); integrations keep nested JSON
  // (CloudTrail's requestParameters, Entra ID's networkLocationDetails) in such fields.
  if (r.type === 'flattened')
    throw new Refusal(
      'target/unsupported-field-type',
      `eql cannot search the flattened field ${r.name} (for Sigma field ${sigma}): EQL rejects fields of type flattened`,
      at,
    )
  // A boolean field holds true/false, not the text Sigma compares; not lowered (yet).
  if (r.type === 'boolean')
    throw new Refusal(
      'target/unsupported-field-type',
      `eql cannot search the boolean field ${r.name} (for Sigma field ${sigma}): rulesmith compares keyword, number and ip fields only`,
      at,
    )
  return r
}

/**
 * A Sigma value pattern on an ECS field. Case-insensitive values use `:` (E1: "`:` … equivalent
 * to `like~`", wildcards `*` and `?`); case-sensitive ones `==` or `like`. A literal `*`/`?` has no
 * escape in `:`/`like` (Elasticsearch's StringUtils.toLikePattern turns every `*` and `?` into a
 * wildcard), so such values become a whole-value Lucene regex (`regex`/`regex~`). `:`'s case
 * folding is ASCII-only (Elasticsearch AutomatonQueries.toCaseInsensitiveChar: "For now we only
 * work with ASCII characters"), which is Sigma's folding (docs/semantics.md, "Case folding"): a
 * non-ASCII letter in the value or the event is compared exactly on both sides.
 */
function matchComparison(n: NodeOf<'Match'>, f: { name: string; type: FieldType }): Comparison {
  const shape = shapeOf(n.pattern)
  if (f.type === 'long') {
    if (shape.kind === 'anything') return { field: f.name, op: '!= null', values: [] }
    if (shape.kind === 'exact' && CANONICAL_INT.test(shape.text))
      return { field: f.name, op: '==', values: [shape.text] }
    throw new Refusal(
      'target/unsupported-match',
      `eql cannot match the value pattern ${JSON.stringify(sigmaText(n))} against the number field ${f.name}: only whole integers compare exactly`,
      n.at,
    )
  }
  if (f.type === 'ip') return ipComparison(n, f.name, shape)
  if (shape.kind === 'anything') return { field: f.name, op: ':', values: ['"*"'] }
  const literals = n.pattern.flatMap((s) => (s.kind === 'lit' ? [s.text] : []))
  const literalWildcard = literals.some((t) => t.includes('*') || t.includes('?'))
  try {
    if (n.cased) {
      if (shape.kind === 'exact') return { field: f.name, op: '==', values: [eqlString(shape.text)], text: true }
      if (!literalWildcard) return { field: f.name, op: 'like', values: [eqlString(wildcardText(n))] }
      return { field: f.name, op: 'regex', values: [eqlString(patternToLucene(n.pattern))] }
    }
    if (!literalWildcard) return { field: f.name, op: ':', values: [eqlString(wildcardText(n))] }
    return { field: f.name, op: 'regex~', values: [eqlString(patternToLucene(n.pattern))] }
  } catch (e) {
    if (e instanceof Inexpressible) throw inexpressible(e, n.at)
    throw e
  }
}

/** The pattern in `:`/`like` syntax; only called when no literal holds `*` or `?`. */
const wildcardText = (n: NodeOf<'Match'>): string =>
  n.pattern.map((s) => (s.kind === 'lit' ? s.text : s.kind === 'any' ? '*' : '?')).join('')

/** The value as the rule wrote it (Sigma escapes), for messages. */
const sigmaText = (n: NodeOf<'Match'>): string => patternToSigma(n.pattern)

/**
 * An ip field holds addresses, not text: `==` and `cidrMatch` compare addresses
 * (https://www.elastic.co/guide/en/elasticsearch/reference/current/ip.html). A text pattern
 * agrees with that only for a dotted-quad IPv4 address, or a prefix of whole octets (`10.`,
 * `192.168.`), which is the CIDR block of those octets.
 */
function ipComparison(n: NodeOf<'Match'>, name: string, shape: ReturnType<typeof shapeOf>): Comparison {
  if (shape.kind === 'anything') return { field: name, op: '!= null', values: [] }
  if (shape.kind === 'exact' && parseIp(shape.text)?.family === 4)
    return { field: name, op: '==', values: [eqlString(shape.text)] }
  if (shape.kind === 'startswith' && /^((0|[1-9]\d{0,2})\.){1,3}$/.test(shape.text)) {
    const octets = shape.text.split('.').filter((o) => o !== '')
    if (octets.every((o) => Number(o) <= 255)) {
      const cidr = [...octets, ...Array(4 - octets.length).fill('0')].join('.') + '/' + octets.length * 8
      return { field: name, op: 'cidr', values: [eqlString(cidr)] }
    }
  }
  throw new Refusal(
    'target/unsupported-match',
    `eql cannot match the text pattern ${JSON.stringify(sigmaText(n))} against the ip field ${name}: ip fields compare addresses (use |cidr)`,
    n.at,
  )
}

function leafComparison(ctx: Ctx, n: Node): Comparison {
  const c = comparisonOf(ctx, n)
  rewriteGuard(ctx, n, c.field)
  onlyGuard(ctx, n, c.field)
  return ctx.env.schema.fields.has(c.field) ? c : { ...c, optional: true }
}

/**
 * A field whose values the integration's pipeline partly replaces (o365: Operation "Add user." is
 * indexed as event.action "added-user-account" in Azure AD records): the query reads the indexed
 * value, so the rule's test must answer the same for each original and its replacement, whichever
 * record type the pipeline replaced it in. Otherwise refused.
 */
function rewriteGuard(ctx: Ctx, n: Node, ecs: string): void {
  if (!('field' in n) || ctx.rewriteSafe.has(n.field)) return
  const pairs = ctx.source.rewrites[n.field]
  if (!pairs) return
  for (const [original, indexed] of pairs)
    if (evaluate(n, { [n.field]: original }) !== evaluate(n, { [n.field]: indexed }))
      throw new Refusal(
        'target/unsupported-match',
        `eql cannot test ${n.field} here: the integration's pipeline indexes the ${n.field} value ${JSON.stringify(original)} as ${ecs} ${JSON.stringify(indexed)}, and the rule tells the two apart`,
        n.at,
      )
}

/**
 * A field the integration's pipeline puts in its ECS field only for some values, lower-cased
 * (`only:`; Entra ID audit: properties.result becomes event.outcome when it is success or failure,
 * and the azure shared pipeline lowercases event.outcome): any other value is not in the field the
 * query reads. A test is exact only when it answers for every other value as for no value, and
 * alike for a value and its lower case: a case-insensitive comparison with one exact value (no
 * wildcard) that is one of those. Anything else (a wildcard, a null test, a case-sensitive value)
 * is refused.
 */
function onlyGuard(ctx: Ctx, n: Node, ecs: string): void {
  if (!('field' in n)) return
  const values = ctx.source.only[n.field]
  if (!values) return
  const seg = n.kind === 'Match' && !n.cased && n.pattern.length === 1 ? n.pattern[0] : undefined
  if (seg?.kind === 'lit' && values.includes(seg.text.toLowerCase())) return
  throw new Refusal(
    'target/unsupported-match',
    `eql cannot test ${n.field} here: the integration's pipeline writes it to ${ecs} only when it is ${values.map((v) => JSON.stringify(v)).join(' or ')} (in any case, lower-cased), so only a case-insensitive test for one of those values is exact`,
    n.at,
  )
}

function comparisonOf(ctx: Ctx, n: Node): Comparison {
  switch (n.kind) {
    case 'Match':
      return matchComparison(n, field(ctx, n.field, n.at))
    case 'Regex': {
      const f = field(ctx, n.field, n.at)
      if (!isStringType(f.type))
        throw new Refusal(
          'target/unsupported-regex',
          `eql cannot apply a regular expression to the ${f.type} field ${f.name}`,
          n.at,
        )
      const r = translateRegex(n.source, n.flags, toLucene)
      if ('unsupported' in r)
        throw new Refusal('target/unsupported-regex', unsupportedRegexMessage('eql', n.source, r.unsupported), n.at)
      return { field: f.name, op: n.flags.i ? 'regex~' : 'regex', values: [eqlString(r.text)] }
    }
    case 'Cidr': {
      const f = field(ctx, n.field, n.at)
      // E2 cidrMatch: "field … must be of type ip".
      if (f.type !== 'ip')
        throw new Refusal(
          'target/unsupported-cidr',
          `eql cannot test a CIDR range on the ${f.type} field ${f.name}: cidrMatch needs an ip field`,
          n.at,
        )
      if (!parseCidr(n.cidr))
        throw new Refusal('target/unsupported-cidr', `eql cannot use the CIDR range ${JSON.stringify(n.cidr)}`, n.at)
      return { field: f.name, op: 'cidr', values: [eqlString(n.cidr)] }
    }
    case 'Compare': {
      const f = field(ctx, n.field, n.at)
      if (f.type !== 'long')
        throw new Refusal(
          'target/unsupported-compare',
          `eql cannot compare the ${f.type} field ${f.name} numerically: EQL compares strings as text`,
          n.at,
        )
      if (!Number.isFinite(n.value))
        throw new Refusal('target/unsupported-compare', `eql cannot compare with ${n.value}`, n.at)
      return { field: f.name, op: COMPARE[n.op], values: [String(n.value)] }
    }
    case 'Exists':
      // E1 "Check if a field exists": `field != null`.
      return { field: field(ctx, n.field, n.at).name, op: '!= null', values: [] }
    case 'Null':
      return { field: field(ctx, n.field, n.at).name, op: '== null', values: [] }
    case 'FieldRef':
      throw new Refusal(
        EQL.refuses.FieldRef,
        `eql cannot compare the field ${n.field} with the field ${n.ref}: EQL compares fields only with literal values`,
        n.at,
      )
    case 'Keyword':
      throw new Refusal(
        EQL.refuses.Keyword,
        'eql cannot search a keyword in every field of an event: EQL conditions name their fields',
        n.at,
      )
    default:
      throw new Error(`eql: not a leaf: ${n.kind}`)
  }
}

// --- conditions ------------------------------------------------------------------------------

/** The binding power of an emitted expression's top operator (`BP.Not`: a comparison or a `not`). */
type Prec = number

interface Emitted {
  readonly text: string
  readonly prec: Prec
}

/**
 * A comparison on a missing field yields null in EQL ("functions return null when an argument is
 * null", E2), and `not null` is null; Sigma's `not` of a missing field is true. Under a `not`, a
 * comparison is therefore guarded with `field != null and …`, which makes it two-valued: the query
 * is then exact whether Elasticsearch evaluates with nulls or as a Query DSL filter.
 */
function leaf(c: Comparison, underNot: boolean): Emitted {
  const text = render(c)
  if (!underNot || c.op === '!= null' || c.op === '== null') return { text, prec: BP.Not }
  return { text: `(${fieldText(c)} != null${WHERE.and}${text})`, prec: BP.Not }
}

const wrap = (e: Emitted, min: Prec): string => operand(e.text, e.prec, min)

/** The fields a condition's leaves read; undefined when one reads no field (a keyword). */
function leafFields(n: Node, out = new Set<string>()): Set<string> | undefined {
  if (n.kind === 'And' || n.kind === 'Or') {
    for (const i of n.items) if (!leafFields(i, out)) return undefined
    return out
  }
  if (n.kind === 'Not') return leafFields(n.item, out)
  if (!('field' in n)) return undefined
  out.add(n.field)
  return out
}

/**
 * A condition that reads one rewritten field only, and answers alike for each original value and
 * its replacement, is exact as a whole on the indexed value (`Operation|contains: domain` and
 * `Operation|contains: add`: neither "TeamCreated" nor "added-group-account-to" has "domain"),
 * though a leaf of it alone would tell a pair apart: its leaves need no check of their own.
 */
function checkRewrites(ctx: Ctx, n: Node): Ctx {
  const fields = leafFields(n)
  if (!fields || fields.size !== 1) return ctx
  const f = first([...fields])
  const pairs = ctx.source.rewrites[f]
  if (!pairs || ctx.rewriteSafe.has(f)) return ctx
  if (!pairs.every(([original, indexed]) => evaluate(n, { [f]: original }) === evaluate(n, { [f]: indexed })))
    return ctx
  return { ...ctx, rewriteSafe: new Set([...ctx.rewriteSafe, f]) }
}

function emit(outer: Ctx, n: Node, underNot: boolean): Emitted {
  const ctx = n.kind === 'And' || n.kind === 'Or' || n.kind === 'Not' ? checkRewrites(outer, n) : outer
  switch (n.kind) {
    case 'And':
      // `and` binds tighter than `or` (E1 "Logical operators").
      return { text: n.items.map((i) => wrap(emit(ctx, i, underNot), BP.And)).join(WHERE.and), prec: BP.And }
    case 'Or': {
      const items = orItems(ctx, n.items, underNot)
      return items.length === 1 ? first(items) : { text: items.map((e) => wrap(e, BP.Or)).join(WHERE.or), prec: BP.Or }
    }
    case 'Not': {
      const inner = emit(ctx, n.item, true)
      return {
        text: `${WHERE.not}${inner.prec === BP.Not && !inner.text.startsWith('(') ? `(${inner.text})` : wrap(inner, BP.Not)}`,
        prec: BP.Not,
      }
    }
    default:
      return leafOrRefusal(ctx, n, underNot)
  }
}

/** A leaf, or `false` in its place when the target refuses it (the refusal is recorded). */
function leafOrRefusal(ctx: Ctx, n: Node, underNot: boolean): Emitted {
  return ctx.refusals.leaf(() => leaf(leafComparison(ctx, n), underNot), { text: 'false', prec: BP.Not })
}

/** OR items, with sibling comparisons on one field and operator merged into one list (`f : ("a", "b")`). */
function orItems(ctx: Ctx, items: readonly Node[], underNot: boolean): Emitted[] {
  const out: Array<Emitted | Comparison[]> = []
  const groups = new Map<string, Comparison[]>()
  for (const item of items) {
    if (item.kind === 'And' || item.kind === 'Or' || item.kind === 'Not') {
      out.push(emit(ctx, item, underNot))
      continue
    }
    const c = ctx.refusals.leaf<Comparison | undefined>(() => leafComparison(ctx, item), undefined)
    if (c === undefined) continue
    // `in` is for strings (E1 "Lookup operators"); number and ip fields keep separate `==`.
    if (!MERGEABLE.has(c.op) || (c.op === '==' && !c.text)) {
      out.push(leaf(c, underNot))
      continue
    }
    const key = `${c.op}\u0000${c.field}`
    const g = groups.get(key)
    if (g) g.push(c)
    else {
      const fresh = [c]
      groups.set(key, fresh)
      out.push(fresh)
    }
  }
  return out.map((x) =>
    Array.isArray(x)
      ? leaf({ field: first(x).field, op: first(x).op, values: [...new Set(x.flatMap((c) => c.values))] }, underNot)
      : x,
  )
}

// --- the backend -----------------------------------------------------------------------------

export function compile(rule: Rule, options?: TargetOptions): Compiled {
  const loaded = loadEnvironment(options)
  if (!loaded.env) return { diagnostics: loaded.diagnostics }
  const env = loaded.env
  const source = resolveLogSource(rule.logsource, env)
  if (!source) {
    const message = unsupportedLogSource('eql', 'event category and field map', rule.logsource, env.logsources)
    return refuseRule('eql', rule, 'target/unsupported-logsource', message)
  }
  const ctx: Ctx = { source, env, refusals: new Refusals('eql', rule), rewriteSafe: new Set() }
  const condition = emit(ctx, lower(EQL, rule.detection), false)
  if (ctx.refusals.refused) return { diagnostics: ctx.refusals.diagnostics }
  // `in` is `==` with each value, case-sensitive like `==` (https://www.elastic.co/guide/en/elasticsearch/reference/current/eql-syntax.html#eql-syntax-lookup-operators).
  const constants = constantsFor(rule, source, env).map(([f, v]) =>
    typeof v === 'string' ? `${eqlField(f)} == ${eqlString(v)}` : `${eqlField(f)} in (${v.map(eqlString).join(', ')})`,
  )
  const where = constants.length ? [...constants, wrap(condition, BP.And)].join(WHERE.and) : condition.text
  return {
    query: `${eqlCategory(source.category)} where ${where}`,
    diagnostics: [],
    context: {
      category: source.category,
      index: source.index,
      logsource: source.name,
    },
  }
}

export const backend: Backend = { id: 'eql', compile }
