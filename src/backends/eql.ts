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
import { evaluate, foldCase } from '../evaluate/evaluate.js'
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
import { codePointAt, first, itemAt } from '../guards.js'

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
  /**
   * Fields whose values the pipeline rewrites or removes (EqlLogSource.rewrites, .removes) that an
   * enclosing condition was found to answer alike for either way.
   */
  readonly substitutionSafe: ReadonlySet<string>
  /** Each condition node's telling fields (see telling). */
  readonly telling: ReadonlyMap<Node, Telling>
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
  onlyGuard(ctx, n, c.field)
  substitutionGuard(ctx, n, c.field)
  return ctx.env.schema.fields.has(c.field) ? c : { ...c, optional: true }
}

/**
 * What the integration's pipeline does to a value of the field before indexing: [the value the
 * source record holds, the value indexed in its place, or undefined where it removes the field].
 */
type Substitution = readonly [stated: string, indexed: string | undefined]

function substitutions(source: EqlLogSource, sigma: string): readonly Substitution[] {
  const rewritten = source.rewrites[sigma] ?? []
  const removes = source.removes
  if (!removes || removes.except.has(sigma)) return rewritten
  if (rewritten.length === 0) return (removed ??= new WeakMap()).get(removes) ?? removalsOf(removes)
  return [...rewritten, ...removalsOf(removes)]
}
let removed: WeakMap<NonNullable<EqlLogSource['removes']>, readonly Substitution[]> | undefined
function removalsOf(removes: NonNullable<EqlLogSource['removes']>): readonly Substitution[] {
  const pairs = removes.values.map((v): Substitution => [v, undefined])
  ;(removed ??= new WeakMap()).set(removes, pairs)
  return pairs
}

/** An event holding only this value of the field (none: the field is missing). */
const holding = (field: string, v: string | undefined): Record<string, string> =>
  v === undefined ? {} : { [field]: v }

/** A leaf's answer on an event holding only this value of its field, computed once per leaf and value. */
const answers = new WeakMap<Node, Map<string | undefined, boolean>>()
function answer(n: Node & { readonly field: string }, v: string | undefined): boolean {
  if (surelyFalse(n, v)) return false
  let known = answers.get(n)
  if (!known) answers.set(n, (known = new Map()))
  let a = known.get(v)
  if (a === undefined) known.set(v, (a = evaluate(n, holding(n.field, v))))
  return a
}

/**
 * A shortcut past the evaluator for most leaves: a value test is false on a missing field, and a
 * value pattern on a value lacking one of its literal characters (folded unless cased).
 */
function surelyFalse(n: Node, v: string | undefined): boolean {
  if (n.kind !== 'Match' && n.kind !== 'Regex' && n.kind !== 'Cidr' && n.kind !== 'Compare') return false
  if (v === undefined) return true
  if (n.kind !== 'Match') return false
  const value = n.cased ? v : foldCase(v)
  for (const seg of n.pattern) {
    if (seg.kind !== 'lit') continue
    // The first character is nearly always enough; ASCII letters fold one by one (foldCase).
    for (const c of seg.text) {
      const code = c.charCodeAt(0)
      const folded = !n.cased && code >= 65 && code <= 90 ? String.fromCharCode(code + 32) : c
      if (!value.includes(folded)) return true
    }
  }
  return false
}

/** Whether a leaf answers differently for a value and what the pipeline makes of it. */
const differs = (n: Node & { readonly field: string }, [original, indexed]: Substitution): boolean =>
  answer(n, original) !== answer(n, indexed)

/** The leaf's field values that some pair of a field tells apart ([] nearly always: see telling). */
function tellingPairs(n: Node & { readonly field: string }, pairs: readonly Substitution[]): readonly Substitution[] {
  if (pairs.length === 0 || (n.kind === 'Match' && !holdsAny(n, pairs))) return []
  return pairs.filter((p) => differs(n, p))
}

/**
 * Whether every literal character of a value pattern (folded unless cased) is in some value of
 * the pairs: otherwise the pattern matches none of them, nor a missing field, and tells no pair
 * apart. The characters of each list of pairs are gathered once.
 */
function holdsAny(n: NodeOf<'Match'>, pairs: readonly Substitution[]): boolean {
  let chars = pairChars.get(pairs)
  if (chars === undefined) {
    chars = new Set(pairs.flatMap(([a, b]) => [...a, ...(b ?? '')]))
    pairChars.set(pairs, chars)
  }
  for (const seg of n.pattern) {
    if (seg.kind !== 'lit') continue
    for (const c of seg.text) {
      if (chars.has(c)) continue
      const lower = c.toLowerCase()
      const upper = c.toUpperCase()
      // Sigma folds ASCII letters only (foldCase); another letter must be there as written.
      if (n.cased || !/^[A-Za-z]$/.test(c) || (!chars.has(lower) && !chars.has(upper))) return false
    }
  }
  return true
}
const pairChars = new WeakMap<readonly Substitution[], ReadonlySet<string>>()

const ZERO_GUID = '{00000000-0000-0000-0000-000000000000}'
const valueText = (v: string): string => (v === ZERO_GUID ? 'the zero GUID' : `'${v}'`)
const valueList = (vs: readonly string[], conjunction: 'and' | 'or'): string =>
  vs.length < 2
    ? vs.map(valueText).join('')
    : `${vs.slice(0, -1).map(valueText).join(', ')} ${conjunction} ${valueText(itemAt(vs, vs.length - 1))}`

/**
 * A field whose values the integration's pipeline partly replaces (o365: Operation "Add user." is
 * indexed as event.action "added-user-account" in Azure AD records) or removes (Sysmon: event data
 * "", "-" and the zero GUID, after which the record has no such field): the query reads what is
 * indexed, so the rule's test must answer the same for each original and what became of it,
 * whichever record the pipeline did it in. Otherwise refused.
 */
function substitutionGuard(ctx: Ctx, n: Node, ecs: string): void {
  if (!('field' in n) || ctx.substitutionSafe.has(n.field)) return
  const rewritten = tellingPairs(n, ctx.source.rewrites[n.field] ?? [])[0]
  if (rewritten)
    throw new Refusal(
      'target/unsupported-match',
      `eql cannot test ${n.field} here: the integration's pipeline indexes the ${n.field} value ${JSON.stringify(rewritten[0])} as ${ecs} ${JSON.stringify(rewritten[1])}, and the rule tells the two apart`,
      n.at,
    )
  const removes = ctx.source.removes
  const removed = tellingPairs(n, substitutions(ctx.source, n.field))
    .filter(([, indexed]) => indexed === undefined)
    .map(([original]) => original)
  if (removes && removed.length > 0)
    throw new Refusal(
      'target/unsupported-match',
      `${removes.by ?? "the integration's pipeline"} removes event data values ${valueList(removes.values, 'and')}, so eql cannot tell ${n.field} = ${valueList(removed, 'or')} from a missing field`,
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

/**
 * The condition with the field fixed to one value (undefined: missing) and folded: each leaf on
 * that field replaced by its answer, `and`/`or`/`not` of known answers folded; the other leaves
 * kept as they are (the same objects). Undefined when a leaf reads the field with another (a field
 * reference), which the fixed value alone does not decide.
 */
type Residual = boolean | Node
function residual(n: Node, f: string, v: string | undefined): Residual | undefined {
  switch (n.kind) {
    case 'And':
    case 'Or': {
      // And: true is the identity, false absorbs; Or the other way round.
      const identity = n.kind === 'And'
      const items: Node[] = []
      for (const i of n.items) {
        const r = residual(i, f, v)
        if (r === undefined) return undefined
        if (typeof r !== 'boolean') items.push(r)
        else if (r !== identity) return r
      }
      return items.length === 0 ? identity : items.length === 1 ? first(items) : { kind: n.kind, items }
    }
    case 'Not': {
      const r = residual(n.item, f, v)
      return r === undefined ? undefined : typeof r === 'boolean' ? !r : { kind: 'Not', item: r }
    }
    case 'FieldRef':
      return n.field === f || n.ref === f ? undefined : n
    default:
      return 'field' in n && n.field === f ? answer(n, v) : n
  }
}

/**
 * The fields of a condition's leaves that tell a value from what the pipeline makes of it (the
 * leaves the guard would refuse); null when a leaf reads no field (a keyword). Found once per
 * condition node, bottom-up, into `out`.
 */
type Telling = ReadonlySet<string> | null
function telling(source: EqlLogSource, n: Node, out: Map<Node, Telling>): Telling {
  let t: Telling = NONE
  if (n.kind === 'And' || n.kind === 'Or' || n.kind === 'Not') {
    for (const i of n.kind === 'Not' ? [n.item] : n.items) {
      const b = telling(source, i, out)
      if (b === null || t === null) t = null
      else if (b.size > 0) t = t.size === 0 ? b : new Set([...t, ...b])
    }
  } else if (!('field' in n)) t = null
  else if (n.kind === 'FieldRef') {
    const read = [n.field, n.ref].filter((f) => substitutions(source, f).length > 0)
    if (read.length > 0) t = new Set(read)
  } else if (tellingPairs(n, substitutions(source, n.field)).length > 0) t = new Set([n.field])
  if (t !== NONE) out.set(n, t)
  return t
}
const NONE: ReadonlySet<string> = new Set()

/** Two residuals written alike (kept leaves the very same nodes): they answer alike on any event. */
function sameResidual(a: Residual, b: Residual): boolean {
  if (typeof a === 'boolean' || typeof b === 'boolean') return a === b
  if (a.kind === 'Not' && b.kind === 'Not') return sameResidual(a.item, b.item)
  if ((a.kind === 'And' || a.kind === 'Or') && b.kind === a.kind)
    return a.items.length === b.items.length && a.items.every((x, i) => sameResidual(x, itemAt(b.items, i)))
  return a === b
}

/**
 * A condition that answers alike, whatever its other fields hold, for each value of a field the
 * pipeline rewrites or removes and what becomes of it, is exact as a whole on what is indexed,
 * though a leaf of it alone would tell the two apart: its leaves on that field need no check of
 * their own. Alike is decided by fixing the field to each value and folding (residual): a condition
 * on that field alone folds to one answer (`Operation|contains: domain` and `Operation|contains:
 * add`: neither "TeamCreated" nor "added-group-account-to" has "domain"); `Image|endswith: \x.exe
 * and not ParentImage: '-'` is false for Image "-" and for a missing Image alike.
 */
function checkSubstitutions(ctx: Ctx, n: Node): Ctx {
  // Only fields some leaf below tells apart need the whole condition's answer.
  const fields = ctx.telling.get(n)
  if (!fields) return ctx
  const safe = [...fields].filter((f) => {
    if (ctx.substitutionSafe.has(f)) return false
    const pairs = substitutions(ctx.source, f)
    return (
      pairs.length > 0 &&
      pairs.every(([original, indexed]) => {
        const a = residual(n, f, original)
        const b = residual(n, f, indexed)
        return a !== undefined && b !== undefined && sameResidual(a, b)
      })
    )
  })
  return safe.length === 0 ? ctx : { ...ctx, substitutionSafe: new Set([...ctx.substitutionSafe, ...safe]) }
}

function emit(outer: Ctx, n: Node, underNot: boolean): Emitted {
  const ctx = n.kind === 'And' || n.kind === 'Or' || n.kind === 'Not' ? checkSubstitutions(outer, n) : outer
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
  const detection = lower(EQL, rule.detection)
  const tells = new Map<Node, Telling>()
  if (source.removes || Object.keys(source.rewrites).length > 0) telling(source, detection, tells)
  const ctx: Ctx = { source, env, refusals: new Refusals('eql', rule), substitutionSafe: new Set(), telling: tells }
  const condition = emit(ctx, detection, false)
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
