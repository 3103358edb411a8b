/**
 * The Splunk SPL backend: a rule's detection AST → one SPL search, `<log source prefix> <search
 * terms> [| where <eval predicate>]`.
 *
 * What `search` can express exactly (case-insensitive values with `*` only at the ends, presence,
 * CIDR) is written in `search`; everything else (a `?` or a literal `*` in a value, `|cased`,
 * mid-value wildcards, `|re`, numeric comparisons, `|fieldref`) is written as a `where` predicate
 * over multivalue-safe eval functions, under the same boolean position as in the rule. Keywords are
 * refused. Semantics and citations: docs/targets/spl.md.
 *
 * Emitted SPL, for `Image|endswith: '\sc.exe'` and `CommandLine|re: 'stop\s+\w+'`:
 *   source="XmlWinEventLog:Microsoft-Windows-Sysmon/Operational" EventCode=1 Image="*\\sc.exe"
 *   | where isnotnull(mvfind(CommandLine, "stop[\\t\\n…]+\\w+"))
 */
import { fold, type Node, type NodeOf, type Pattern } from '../ast/nodes.js'
import { shapeOf } from '../ast/pattern.js'
import type { Rule } from '../rule/rule.js'
import {
  splLogSources,
  loadEnv,
  logSourceTerms,
  resolveLogSource,
  splunkField,
  type SearchTerm,
  type SplEnv,
  type SplLogSource,
} from './spl-env.js'
import { patternsToPcre, toPcre } from '../regex/pcre.js'
import { translateRegex, UNSUPPORTED_REGEX, unsupportedRegexMessage } from '../regex/index.js'
import { conjuncts } from '../passes/conjuncts.js'
import type { Backend, Compiled, TargetOptions } from './types.js'
import { Refusal, Refusals, refuseRule } from './refusal.js'
import { COMPARE, escapeOf, type TargetSpec } from './spec.js'
import { resolveLogSource as resolveMostSpecific, unsupportedLogSource } from './environment.js'
import { codePointAt, entryOf, first, must } from '../guards.js'

/** The language facts the renderer relies on, each with its source. */
export const SPL = {
  id: 'spl',
  contexts: {
    search: {
      // Implicit AND is whitespace; OR binds tighter than AND in `search` (NOT > OR > AND): every
      // compound operand is parenthesised all the same. Operators are upper case.
      // https://help.splunk.com/en/splunk-enterprise/search/search-manual/9.3/expressions-and-predicates
      and: ' ',
      or: ' OR ',
      not: 'NOT ',
      bindingPower: { And: 1, Or: 2, Not: 3 },
      // Quoted values: `\\` is a backslash, `\"` a quote; `*` is a wildcard that cannot be escaped.
      // https://help.splunk.com/splunk-enterprise/search/search-manual/9.4/search-primer/backslashes
      string: { quote: '"', escapes: { '\\': '\\\\', '"': '\\"' } },
    },
    where: {
      // In eval expressions AND binds tighter than OR; every compound operand is parenthesised anyway.
      and: ' AND ',
      or: ' OR ',
      not: 'NOT ',
      bindingPower: { Or: 1, And: 2, Not: 3 },
      // String literals: "C:\\windows" is C:\windows; "\t" would be a tab.
      // https://help.splunk.com/en/splunk-enterprise/search/search-manual/10.0/expressions-and-predicates
      string: { quote: '"', escapes: { '\\': '\\\\', '"': '\\"' } },
    },
  },
  passes: [],
  refuses: {
    // A bare term searches the raw event text, keys and escapes included, broken into segments:
    // not "some string value matches". https://help.splunk.com/en/splunk-enterprise/search/search-manual/9.3/search-primer
    // Nor is `| foreach * [eval hit=if(isnotnull(mvfind('<<FIELD>>', re)), 1, hit)]`: the fields it
    // walks include those add-ons add at search time ("Calculated fields are fields added to events
    // at search time", https://help.splunk.com/en/splunk-enterprise/manage-knowledge-objects/knowledge-management-manual/10.0/calculated-fields;
    // lookups, the CIM aliases) whose values are no value of the logged event, and it writes each
    // field name into the eval text (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/foreach),
    // where a name holding a quote breaks or rewrites the expression.
    Keyword: 'target/unsupported-keyword',
  },
} as const satisfies TargetSpec

/**
 * Values `search` may match as an address or a CIDR subnet rather than as text, quoted or not:
 * "The search command supports IPv4 and IPv6 addresses and subnets that use CIDR notation"
 * (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.2/search-commands/search),
 * and `search IPV4="10.20.30.4/30"` selects 10.20.30.4…7, quoted
 * (https://qiita.com/frozencatpisces/items/67f0e141856f31f74f03). The page does not say which
 * spellings count, so this is wider than any address syntax: hex digits, dots and colons (at
 * least one dot or colon), an optional zone `%…` and an optional `/prefix`. A plain Sigma value
 * of this form is an exact text compare, so it is written in `where`.
 */
const SEARCH_READS_AS_ADDRESS = /^(?=[^/%]*[.:])[0-9A-Fa-f.:]+(?:%[^\s/]*)?(?:\/\d+)?$/

const SEARCH = SPL.contexts.search
const WHERE = SPL.contexts.where

/** Which names SPL can write where, and which it must not. */
const NAMES = {
  /** Field names written bare in `search`; any other name goes to `where`, which can quote it. */
  search: /^[A-Za-z_][A-Za-z0-9_.]*$/,
  // Eval field names other than [A-Za-z_][A-Za-z0-9_]* are written in single quotes.
  // https://help.splunk.com/splunk-enterprise/spl-search-reference/9.2/search-commands/where
  eval: /^[A-Za-z_][A-Za-z0-9_]*$/,
  // A backtick outside a double-quoted string starts a macro call, which Splunk expands first
  // (https://help.splunk.com/en/splunk-enterprise/manage-knowledge-objects/knowledge-management-manual/10.0/search-macros).
  quotedEval: /^[^'\\`\p{C}]+$/u,
  /** Words that are operators somewhere in SPL: never written as bare field names. */
  reserved: new Set([
    'AND',
    'OR',
    'NOT',
    'IN',
    'XOR',
    'LIKE',
    'TRUE',
    'FALSE',
    'NULL',
    'CASE',
    'TERM',
    'SEARCH',
    'WHERE',
  ]),
  /**
   * Splunk's own fields: where an event came from, not a value inside it. A Sigma field named so
   * (Zeek's HTTP `host`) would be compared with the wrong value, so such a rule is refused until a
   * pipeline maps the field elsewhere.
   * https://help.splunk.com/splunk-cloud-platform/manage-knowledge-objects/knowledge-management-manual/10.0.2503/fields-and-field-extractions/use-default-fields
   */
  default: /^(host|index|linecount|punct|source|sourcetype|splunk_server|timestamp|eventtype|tag|date_[a-z]+|_.*)$/,
  /** Characters never written raw in a search value (controls, lone surrogates, line separators). */
  invisible: /[\p{Cc}\p{Cs}\u2028\u2029]/u,
} as const

const quote = (text: string, escapes: Readonly<Record<'\\' | '"', string>>): string =>
  '"' + text.replace(/[\\"]/g, (c) => escapeOf(escapes, c)) + '"'

interface Ctx {
  readonly env: SplEnv
  readonly ls: SplLogSource
  readonly refusals: Refusals
}

const isCompound = (n: Node): boolean => n.kind === 'And' || n.kind === 'Or'

// ---------------------------------------------------------------------------------------------
// search: what it can say exactly

const searchValues = new WeakMap<Pattern, string | undefined>()

/** The literal of a pattern that `search` can match exactly: `*` only at the ends, no `?`. */
function searchValue(pattern: Pattern): string | undefined {
  if (searchValues.has(pattern)) return searchValues.get(pattern)
  const value = searchValueOf(pattern)
  searchValues.set(pattern, value)
  return value
}

function searchValueOf(pattern: Pattern): string | undefined {
  const shape = shapeOf(pattern)
  switch (shape.kind) {
    case 'anything':
      return '*'
    case 'exact':
    case 'contains':
    case 'startswith':
    case 'endswith': {
      // An empty value, a literal `*` (not escapable) or invisible characters go to `where`; so
      // does a letter outside ASCII: Splunk documents case-insensitive search ("By default,
      // searches are case-insensitive", https://help.splunk.com/splunk-enterprise/search/search-manual/10.0/search-primer/use-case-and-term-to-match-phrases)
      // with ASCII examples only, and whether it folds `É` with `é` is not written anywhere, while
      // Sigma's folding is ASCII-only (docs/semantics.md): `where` spells the ASCII letters' cases
      // and compares every other character exactly, whatever Splunk's folding.
      if (
        shape.text === '' ||
        shape.text.includes('*') ||
        NAMES.invisible.test(shape.text) ||
        casedBeyondAscii(shape.text)
      )
        return undefined
      // A value `search` may read as an address or a subnet goes to `where`, whose `mvfind` compares text.
      if (shape.kind === 'exact' && SEARCH_READS_AS_ADDRESS.test(shape.text)) return undefined
      const lead = shape.kind === 'contains' || shape.kind === 'endswith' ? '*' : ''
      const tail = shape.kind === 'contains' || shape.kind === 'startswith' ? '*' : ''
      return lead + shape.text + tail
    }
    case 'wildcard':
      // `?` has no search equivalent; a `*` between literals is unreliable in search ("Avoid using
      // wildcards in the middle of a string": https://docs.splunk.com/Documentation/SplunkCloud/latest/Search/Wildcards).
      return undefined
  }
}

/** True when the text has a letter outside ASCII that has another case. */
function casedBeyondAscii(text: string): boolean {
  for (const ch of text) if (codePointAt(ch, 0) > 0x7f && ch.toLowerCase() !== ch.toUpperCase()) return true
  return false
}

function searchField(ctx: Ctx, sigmaField: string): string | undefined {
  const name = splunkField(ctx.env, ctx.ls, sigmaField)
  return NAMES.search.test(name) && !NAMES.reserved.has(name.toUpperCase()) ? name : undefined
}

const CIDR_TOKEN = /^[0-9A-Fa-f.:]+\/\d{1,3}$/

/** True when `search` alone expresses the node exactly. */
function searchable(ctx: Ctx, node: Node): boolean {
  switch (node.kind) {
    case 'And':
    case 'Or':
      return node.items.every((n) => searchable(ctx, n))
    case 'Not':
      return searchable(ctx, node.item)
    case 'Match':
      return !node.cased && searchField(ctx, node.field) !== undefined && searchValue(node.pattern) !== undefined
    case 'Exists':
    case 'Null':
      return searchField(ctx, node.field) !== undefined
    case 'Cidr':
      // "The search command supports IPv4 and IPv6 addresses and subnets that use CIDR notation."
      // https://help.splunk.com/splunk-enterprise/spl-search-reference/9.2/search-commands/search
      return searchField(ctx, node.field) !== undefined && CIDR_TOKEN.test(node.cidr)
    default:
      return false
  }
}

/** Render a searchable node. `f="v"` matches when any value of a multivalue field matches. */
function renderSearch(ctx: Ctx, node: Node): string {
  // Operands that are compound or start with NOT are parenthesised: `NOT (NOT f=*)`, never `NOT NOT`.
  const operand = (n: Node): string =>
    isCompound(n) || n.kind === 'Not' || n.kind === 'Null' ? `(${renderSearch(ctx, n)})` : renderSearch(ctx, n)
  switch (node.kind) {
    case 'And':
      return node.items.map(operand).join(SEARCH.and)
    case 'Or':
      return inGroups(node.items)
        .map((g) => (Array.isArray(g) ? renderIn(ctx, g) : operand(g)))
        .join(SEARCH.or)
    case 'Not':
      // Not(Null f) is exactly "f has a value".
      if (node.item.kind === 'Null') return `${searchField(ctx, node.item.field)}=*`
      // `NOT f="v"` also keeps events without f, as Sigma's `not` does; `f!="v"` would drop them.
      // https://help.splunk.com/splunk-enterprise/search/spl2-search-reference/search-command/search-command-examples
      return SEARCH.not + operand(node.item)
    case 'Match': {
      const value = must(searchValue(node.pattern), 'search holds a Match only when searchValue has it')
      return `${searchField(ctx, node.field)}=${value === '*' ? '*' : quote(value, SEARCH.string.escapes)}`
    }
    case 'Exists':
      return `${searchField(ctx, node.field)}=*`
    case 'Null':
      return `${SEARCH.not}${searchField(ctx, node.field)}=*`
    case 'Cidr':
      return `${searchField(ctx, node.field)}=${node.cidr}`
    default:
      throw new Error(`spl: ${node.kind} is not searchable`)
  }
}

/**
 * An OR's items with its value matches grouped by `key` (order of first appearance); a match
 * without a key, and any other node, stays on its own.
 */
function groupMatches(
  items: readonly Node[],
  key: (m: NodeOf<'Match'>) => string | undefined,
): (Node | NodeOf<'Match'>[])[] {
  const groups = new Map<string, NodeOf<'Match'>[]>()
  const out: (Node | NodeOf<'Match'>[])[] = []
  for (const n of items) {
    const k = n.kind === 'Match' ? key(n) : undefined
    if (n.kind !== 'Match' || k === undefined) {
      out.push(n)
      continue
    }
    const group = groups.get(k)
    if (group) group.push(n)
    else {
      const fresh = [n]
      groups.set(k, fresh)
      out.push(fresh)
    }
  }
  return out.map((g) => (Array.isArray(g) && g.length === 1 ? first(g) : g))
}

/** Plain matches on one field, for `f IN (…)` (a lone `*` stays `f=*`). */
const inGroups = (items: readonly Node[]) =>
  groupMatches(items, (m) => (searchValue(m.pattern) === '*' ? undefined : m.field))

/** Value matches on one field with one case rule, for one `mvfind` alternation. */
const matchGroups = (items: readonly Node[]) => groupMatches(items, (m) => `${m.cased}\u0000${m.field}`)

/** `f IN ("a", "b*")`: case-insensitive, wildcards allowed, like `f="a" OR f="b*"`. */
function renderIn(ctx: Ctx, group: readonly NodeOf<'Match'>[]): string {
  const values = group.map((m) =>
    quote(must(searchValue(m.pattern), 'search holds a Match only when searchValue has it'), SEARCH.string.escapes),
  )
  return `${searchField(ctx, first(group).field)} IN (${values.join(', ')})`
}

// ---------------------------------------------------------------------------------------------
// where: everything else, as eval predicates that are never null

function evalField(ctx: Ctx, sigmaField: string, at?: { line: number; col: number }): string {
  const name = splunkField(ctx.env, ctx.ls, sigmaField)
  if (NAMES.eval.test(name) && !NAMES.reserved.has(name.toUpperCase())) return name
  if (NAMES.quotedEval.test(name)) return `'${name}'`
  throw new Refusal(
    'target/unsupported-field-name',
    `spl cannot name the field '${name}' in an eval expression: it holds a quote, a backslash, a backtick or a control character`,
    at,
  )
}

const evalString = (text: string): string => quote(text, WHERE.string.escapes)

/** A number as an eval literal (no `+` in exponents). */
const evalNumber = (n: number): string => String(n).replace('e+', 'e')

/**
 * Render any node (but Keyword) as an eval predicate. Each leaf is total (true or false, never
 * null), so NOT and OR mean what they mean in Sigma whatever fields are missing, and each reads
 * every value of a multivalue field:
 * - `mvfind(f, re)` is the index of the first value matching `re`, NULL when none does;
 * - `mvfilter(p)` keeps the values for which `p` holds, NULL when none does.
 * https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/evaluation-functions/multivalue-eval-functions
 */
function renderWhere(ctx: Ctx, node: Node): string {
  const operand = (n: Node): string =>
    whereCompound(n) || n.kind === 'Not' ? `(${renderWhere(ctx, n)})` : renderWhere(ctx, n)
  // A refused leaf stands as false() while the rest of the rule is still checked for refusals.
  const leaf = (render: () => string): string => ctx.refusals.leaf(render, 'false()')
  return fold<string>(node, {
    And: (n) => n.items.map(operand).join(WHERE.and),
    // Value matches on one field under one OR share one mvfind with an alternation.
    Or: (n) =>
      matchGroups(n.items)
        .map((g) => (Array.isArray(g) ? leaf(() => renderMatches(ctx, g)) : operand(g)))
        .join(WHERE.or),
    Not: (n) => WHERE.not + operand(n.item),
    Match: (n) => leaf(() => renderMatches(ctx, [n])),
    Regex: (n) =>
      leaf(() => {
        const f = evalField(ctx, n.field, n.at)
        const r = translateRegex(n.source, n.flags, toPcre)
        if ('unsupported' in r)
          throw new Refusal(UNSUPPORTED_REGEX, unsupportedRegexMessage('spl', n.source, r.unsupported), n.at)
        return `isnotnull(mvfind(${f}, ${evalString(r.text)}))`
      }),
    // cidrmatch("<cidr>", ip) is true when ip is in the subnet; mvfilter applies it to every value.
    // https://help.splunk.com/splunk-cloud-platform/spl-search-reference/9.3.2408/evaluation-functions/comparison-and-conditional-functions
    Cidr: (n) => leaf(() => `isnotnull(mvfilter(cidrmatch(${evalString(n.cidr)}, ${evalField(ctx, n.field, n.at)})))`),
    Compare: (n) =>
      leaf(() => {
        if (!Number.isFinite(n.value))
          throw new Refusal('target/unsupported-compare', `spl cannot compare '${n.field}' with ${n.value}`, n.at)
        const op = COMPARE[n.op]
        // tonumber() is NULL for a value that is not a number, so such values never compare.
        return `isnotnull(mvfilter(tonumber(trim(${evalField(ctx, n.field, n.at)})) ${op} ${evalNumber(n.value)}))`
      }),
    Exists: (n) => leaf(() => `isnotnull(${evalField(ctx, n.field, n.at)})`),
    Null: (n) => leaf(() => `isnull(${evalField(ctx, n.field, n.at)})`),
    FieldRef: (n) => leaf(() => fieldRef(ctx, n)),
    Keyword: () => 'false()',
  })
}

/**
 * Some value of a equals some value of b: the distinct values of both together are fewer than the
 * distinct values of each, counted apart. mvmap/lower compare case-insensitively.
 */
function fieldRef(ctx: Ctx, n: NodeOf<'FieldRef'>): string {
  // lower() is documented as "returns the string in lowercase" with ASCII examples only
  // (https://help.splunk.com/splunk-cloud-platform/spl-search-reference/9.3.2408/evaluation-functions/text-functions):
  // whether it lowers `É` (and so whether `É` and `é` compare equal) is not written, while Sigma
  // folds ASCII only. Two fields' values are not known when compiling, so no spelling helps.
  if (!n.cased)
    throw new Refusal(
      'target/unsupported-case-folding',
      `spl cannot compare fields ${n.field} and ${n.ref} case-insensitively as Sigma does: lower() is not documented to leave non-ASCII letters alone (Sigma folds ASCII letters only); add |cased`,
      n.at,
    )
  const a = evalField(ctx, n.field, n.at)
  const b = evalField(ctx, n.ref, n.at)
  const set = (f: string): string => (n.cased ? `mvdedup(${f})` : `mvdedup(mvmap(${f}, lower(${f})))`)
  const overlap = `mvcount(mvdedup(mvappend(${set(a)}, ${set(b)}))) < mvcount(${set(a)}) + mvcount(${set(b)})`
  return `if(isnotnull(${a}) AND isnotnull(${b}), ${overlap}, false())`
}

/** A node whose where-text has a top-level AND/OR (an OR that is one mvfind has none). */
const whereCompound = (n: Node): boolean => isCompound(n) && !(n.kind === 'Or' && matchGroups(n.items).length === 1)

/** `mvfind` over the value patterns of one field: TRUE when some value matches one of them. */
function renderMatches(ctx: Ctx, group: readonly NodeOf<'Match'>[]): string {
  const head = first(group)
  const f = evalField(ctx, head.field, head.at)
  if (group.length === 1 && shapeOf(head.pattern).kind === 'anything') return `isnotnull(${f})`
  return `isnotnull(mvfind(${f}, ${evalString(
    patternsToPcre(
      group.map((m) => m.pattern),
      head.cased,
    ),
  )}))`
}

// ---------------------------------------------------------------------------------------------

function prefixTerm([field, values]: SearchTerm): string {
  const value = (v: string | number): string => (typeof v === 'number' ? String(v) : quote(v, SEARCH.string.escapes))
  return values.length === 1 ? `${field}=${value(first(values))}` : `${field} IN (${values.map(value).join(', ')})`
}

/** The Sigma fields a leaf reads. */
const leafFields = (n: Node): string[] => (n.kind === 'FieldRef' ? [n.field, n.ref] : 'field' in n ? [n.field] : [])

/** The first leaf (in rule order) that satisfies `test`. */
function firstNode(node: Node, test: (n: Node) => boolean): Exclude<Node, { kind: 'And' | 'Or' | 'Not' }> | undefined {
  if (node.kind === 'And' || node.kind === 'Or') {
    for (const item of node.items) {
      const hit = firstNode(item, test)
      if (hit) return hit
    }
    return undefined
  }
  if (node.kind === 'Not') return firstNode(node.item, test)
  return test(node) ? node : undefined
}

/**
 * Target facts the formats and the bundle read: the log source, the `savedsearch` schedule
 * settings, the log-source terms the query starts with, and the definitions of the macros it uses
 * (the bundle's macros.conf).
 */
function formatContext(
  env: SplEnv,
  ls: SplLogSource,
  searchPrefix: string,
  macros: ReadonlySet<string>,
): Record<string, unknown> {
  const definitions = Object.fromEntries([...macros].sort().map((m) => [m, entryOf(env.macros, m)]))
  return { logsource: ls.name, schedule: env.savedsearch, searchPrefix, macros: definitions }
}

/** The Sigma fields the rule reads. */
const ruleFields = (detection: Node): Set<string> => {
  const out = new Set<string>()
  const walk = (n: Node): void => {
    if (n.kind === 'And' || n.kind === 'Or') n.items.forEach(walk)
    else if (n.kind === 'Not') walk(n.item)
    else for (const f of leafFields(n)) out.add(f)
  }
  walk(detection)
  return out
}

/** A log source's scope: its macro (`\`sysmon\``), then its search terms the rule does not decide itself. */
function scopeTerms(env: SplEnv, ls: SplLogSource, detection: Node): string[] {
  return [...(ls.macro !== undefined ? [`\`${ls.macro}\``] : []), ...logSourceTerms(env, ls, detection).map(prefixTerm)]
}

interface Rendered {
  readonly terms: string[]
  readonly predicates: string[]
}

/** The rule's own search terms and where predicates, with the field names of one log source. */
function renderRule(ctx: Ctx, detection: Node): Rendered {
  // `not (a or b)` is opened into `not a`, `not b` (exact: every emitted leaf is true or false)
  // when the OR cannot be searched as a whole, so that each part goes to `search` when it can,
  // instead of the whole filter going to `where`.
  const items = conjuncts(detection, (n) => searchable(ctx, n))
  const terms: string[] = []
  const predicates: string[] = []
  for (const item of items) {
    if (searchable(ctx, item)) terms.push(isCompound(item) ? `(${renderSearch(ctx, item)})` : renderSearch(ctx, item))
    else predicates.push(whereCompound(item) ? `(${renderWhere(ctx, item)})` : renderWhere(ctx, item))
  }
  return { terms, predicates }
}

/** One log source's part of a query: its search terms (scope first) and its where predicates. */
interface Branch {
  readonly ls: SplLogSource
  readonly terms: readonly string[]
  readonly predicates: readonly string[]
}

const head = (terms: readonly string[]): string => (terms.length > 0 ? terms.join(' ') : '*')

/**
 * A field every branch's scope pins to one number, a different one each (EventCode 1 and 4688):
 * in `where`, it tells which branch's search an event passed, so each branch's predicates apply
 * only to its own events. Undefined when the scopes have none.
 */
function discriminator(
  env: SplEnv,
  detection: Node,
  branches: readonly Branch[],
): { field: string; values: string[] } | undefined {
  const pinned = branches.map((b) => new Map(logSourceTerms(env, b.ls, detection).map(([f, v]) => [f, v])))
  for (const [field] of first(pinned)) {
    // The field's one number in each branch's scope; a branch without one ends the list early.
    const texts: string[] = []
    for (const p of pinned) {
      const v = p.get(field)
      if (v?.length !== 1 || !/^\d+$/.test(String(v[0]))) break
      texts.push(String(v[0]))
    }
    if (texts.length === pinned.length && new Set(texts).size === texts.length) return { field, values: texts }
  }
  return undefined
}

/**
 * One query over every branch: `(A terms) OR (B terms)`, then, when a branch has where
 * predicates, `| where (<A's EventCode> AND <A's predicates>) OR (<B's EventCode> AND …)`. A
 * branch whose predicates cannot be told apart from the others' is left out (the first is kept).
 */
function branchedQuery(env: SplEnv, detection: Node, all: readonly Branch[]): string {
  const hasWhere = all.some((b) => b.predicates.length > 0)
  const tell = all.length > 1 && hasWhere ? discriminator(env, detection, all) : undefined
  const branches = all.length > 1 && hasWhere && !tell ? all.slice(0, 1) : all
  const predicate = (b: Branch): string => b.predicates.join(WHERE.and)
  if (branches.length === 1) {
    const b = first(branches)
    return b.predicates.length > 0 ? `${head(b.terms)} | where ${predicate(b)}` : head(b.terms)
  }
  const search = branches.map((b) => `(${head(b.terms)})`).join(SEARCH.or)
  if (!tell) return search
  // The branch's own pinned value, read as search reads it (any value equal); every emitted
  // predicate is TRUE or FALSE, so AND and OR here mean what they say.
  const which = (i: number): string =>
    `isnotnull(mvfind(${evalFieldName(tell.field)}, ${evalString(`^${tell.values[i]}\\z`)}))`
  const parts = branches.map((b, i) => (b.predicates.length > 0 ? `(${which(i)} AND ${predicate(b)})` : which(i)))
  return `${search} | where ${parts.join(WHERE.or)}`
}

/** A Splunk field name as an eval operand (bare, else single-quoted). */
const evalFieldName = (name: string): string =>
  NAMES.eval.test(name) && !NAMES.reserved.has(name.toUpperCase()) ? name : `'${name}'`

const KEYWORD_MESSAGE =
  'spl cannot express a Sigma keyword exactly: a search term matches the raw event text (field names, quoting and segmentation included), not each string value of the event; `foreach *` over the fields also sees the fields add-ons calculate or look up at search time, and writes each field name into eval text'

/**
 * `--variant cim`: the rule over a CIM data-model dataset, `| datamodel <model> <dataset> search`
 * (the dataset's events, each field named `<dataset>.<field>`:
 * https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/datamodel),
 * then the same search terms and where predicates as the plain form. A dataset's `fields` are all
 * it holds: a rule reading any other field is refused, never searched for a field CIM lacks.
 */
function compileCim(rule: Rule, env: SplEnv): Compiled {
  const cim = resolveMostSpecific(env.cim, rule.logsource)
  if (!cim) {
    const message = unsupportedLogSource('spl', 'CIM data model dataset', rule.logsource, env.cim, {
      where: (ls) => ls.datamodel,
    })
    return refuseRule('spl', rule, 'target/unsupported-logsource', message)
  }
  const keyword = firstNode(rule.detection, (n) => n.kind === 'Keyword')
  if (keyword) return refuseRule('spl', rule, SPL.refuses.Keyword, KEYWORD_MESSAGE, keyword.at)
  const lacks = (n: Node): string | undefined =>
    leafFields(n).find((f) => !Object.prototype.hasOwnProperty.call(cim.fields, f))
  const missing = firstNode(rule.detection, (n) => lacks(n) !== undefined)
  const field = missing && lacks(missing)
  if (missing && field !== undefined) {
    return refuseRule(
      'spl',
      rule,
      'target/unsupported-field',
      `spl (cim) cannot test the field ${field}: the ${cim.datamodel} data model has no field for it (it has ${Object.keys(cim.fields).join(', ')})`,
      missing.at,
    )
  }
  const ls: SplLogSource = { name: cim.name, match: cim.match, search: [], fields: cim.fields, also: [] }
  const ctx: Ctx = { env, ls, refusals: new Refusals('spl', rule) }
  const own = renderRule(ctx, rule.detection)
  if (ctx.refusals.refused) return { diagnostics: ctx.refusals.diagnostics }
  // `<model>.<dataset>` (target.schema.json checks the form): the command takes them apart.
  const dot = cim.datamodel.indexOf('.')
  const query =
    `| datamodel ${cim.datamodel.slice(0, dot)} ${cim.datamodel.slice(dot + 1)} search` +
    (own.terms.length > 0 ? ` | search ${own.terms.join(' ')}` : '') +
    (own.predicates.length > 0 ? ` | where ${own.predicates.join(WHERE.and)}` : '')
  return { query, diagnostics: ctx.refusals.diagnostics, context: formatContext(env, ls, '', new Set()) }
}

export const backend: Backend = {
  id: 'spl',
  compile(rule: Rule, options?: TargetOptions): Compiled {
    const loaded = loadEnv(options?.pipeline)
    if (!loaded.env) return { diagnostics: loaded.diagnostics }
    const env = loaded.env
    if (options?.variant === 'cim') return compileCim(rule, env)
    const ls = resolveLogSource(env, rule.logsource)
    if (!ls) {
      const message = unsupportedLogSource('spl', 'Splunk log source', rule.logsource, splLogSources(env))
      return refuseRule('spl', rule, 'target/unsupported-logsource', message)
    }
    const ctx: Ctx = { env, ls, refusals: new Refusals('spl', rule) }
    const keyword = firstNode(rule.detection, (n) => n.kind === 'Keyword')
    if (keyword) {
      return refuseRule('spl', rule, SPL.refuses.Keyword, KEYWORD_MESSAGE, keyword.at)
    }
    const defaultField = (n: Node): string | undefined =>
      leafFields(n)
        .map((f) => splunkField(env, ls, f))
        .find((f) => NAMES.default.test(f))
    const clash = firstNode(rule.detection, (n) => defaultField(n) !== undefined)
    if (clash) {
      return refuseRule(
        'spl',
        rule,
        'target/unsupported-field-name',
        `spl cannot test the field '${defaultField(clash)}': in Splunk it is a default field (where the event came from), not a value of the event; map the Sigma field to another Splunk field with --pipeline`,
        clash.at,
      )
    }
    const scope = scopeTerms(env, ls, rule.detection)
    const own = renderRule(ctx, rule.detection)
    if (ctx.refusals.refused) return { diagnostics: ctx.refusals.diagnostics }
    const branches: Branch[] = [{ ls, terms: [...scope, ...own.terms], predicates: own.predicates }]
    // Other records of the same activity (Security 4688 for a process creation), each as its own
    // branch: only when the rule reads nothing but fields that record holds (a field it lacks would
    // be missing there, and a filter on it would let every such event through).
    const fields = ruleFields(rule.detection)
    for (const a of ls.also) {
      if (![...fields].every((f) => Object.prototype.hasOwnProperty.call(a.fields, f))) continue
      const actx: Ctx = { env, ls: a, refusals: new Refusals('spl', rule) }
      const r = renderRule(actx, rule.detection)
      if (actx.refusals.refused) continue
      branches.push({ ls: a, terms: [...scopeTerms(env, a, rule.detection), ...r.terms], predicates: r.predicates })
    }
    const query = branchedQuery(env, rule.detection, branches)
    const macros = new Set(branches.flatMap((b) => (b.ls.macro !== undefined ? [b.ls.macro] : [])))
    const prefix = branches.length > 1 ? '' : scope.join(' ')
    return { query, diagnostics: ctx.refusals.diagnostics, context: formatContext(env, ls, prefix, macros) }
  },
}
