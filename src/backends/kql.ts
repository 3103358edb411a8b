/**
 * The Microsoft KQL backend: a rule's detection AST → `Table | where …` for Microsoft Defender XDR
 * advanced hunting or Microsoft Sentinel (option `variant`), following
 * https://learn.microsoft.com/kusto/query/datatypes-string-operators and docs/targets/kql.md.
 *
 * Emitted KQL (Defender, `Image|endswith: \cmd.exe` and `CommandLine|contains: /c`):
 *   DeviceProcessEvents
 *   | where FileName =~ "cmd.exe" and ProcessCommandLine contains "/c"
 * and on Linux or macOS, where the field map splits paths on `/`, `Image|endswith: /systemctl`
 * is `FileName =~ "systemctl"` (but `Image|endswith: systemctl` stays `FolderPath endswith …`).
 *
 * The target cannot tell an empty string from a missing value (string columns have no null), so
 * every construct whose answer differs between the two is refused, not approximated.
 */
import { fieldsOf, fold, type Node, type NodeOf, type Pattern, type Pos } from '../ast/nodes.js'
import { normalize, patternToSigma, shapeOf } from '../ast/pattern.js'
import type { Rule } from '../rule/rule.js'
import { joinInGroups } from '../passes/balance.js'
import type { Backend, Compiled, TargetOptions } from './types.js'
import { COMPARE, escapeOf, lower, operand, type TargetSpec } from './spec.js'
import { unsupportedLogSource } from './environment.js'
import { pipelineError, Refusal, Refusals, refuseRule } from './refusal.js'
import {
  describeLogsource,
  nameSuffix,
  candidateLogSources,
  familiesOf,
  kqlEnvs,
  records,
  resolveField,
  variants,
  type ConditionValue,
  type KqlEnv,
  type LogSourceEntry,
  type ResolvedField,
} from './kql-env.js'
import { re2Literal, toRe2 } from '../regex/re2.js'
import { translateRegex, UNSUPPORTED_REGEX, unsupportedRegexMessage } from '../regex/index.js'
import { codePointAt, first, must, mustGet } from '../guards.js'

/** The language facts the renderer reads. */
export const KQL = {
  id: 'kql',
  contexts: {
    where: {
      and: ' and ',
      or: ' or ',
      not: 'not',
      // `and` binds tighter than `or`; not() is a function call.
      // https://learn.microsoft.com/kusto/query/logical-operators
      bindingPower: { Or: 1, And: 2, Not: 3 },
      // In "…" the backslash escapes the quote, \t, \n and itself (kqlString also writes @"…").
      // https://learn.microsoft.com/kusto/query/scalar-data-types/string
      string: { quote: '"', escapes: { '\\': '\\\\', '"': '\\"', '\t': '\\t', '\n': '\\n' } },
    },
  },
  // Nested and/or of the same kind and one-item and/or read the same flat: emit them flat.
  passes: ['flatten'],
  // Microsoft's parser refuses a flat chain of a few hundred `or`s ("KS245 Query syntax depth
  // exceeds maximum safe limit"): runs longer than 64 nest in parenthesised groups of 64.
  maxRun: { size: 64, shape: 'groups' },
  // An event's fields the table has no column for are not in the row, and `search`/`has` match
  // terms, not substrings.
  refuses: { Keyword: 'target/unsupported-keyword' },
} as const satisfies TargetSpec

const WHERE = KQL.contexts.where

// ---------------------------------------------------------------------------------------------
// Literals. https://learn.microsoft.com/kusto/query/scalar-data-types/string: in "…" the backslash
// escapes only the enclosing quote, \t, \n and itself; a verbatim @"…" keeps backslashes and
// doubles the quote; a raw CR or line feed cannot appear inside quotes.

/** Characters no quoted literal may hold raw and no escape spells: values holding them go to regex. */
const UNQUOTABLE =
  /[\u0000-\u0008\u000b-\u001f\u007f\u0085\u2028\u2029]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** A KQL string literal for the text, or undefined when it has characters no literal can carry (or a lone surrogate). */
export function kqlString(text: string): string | undefined {
  if (UNQUOTABLE.test(text)) return undefined
  if (text.includes('\\') && !/[\t\n]/.test(text)) return '@"' + text.replace(/"/g, '""') + '"'
  return '"' + text.replace(/[\\"\t\n]/g, (c) => escapeOf(WHERE.string.escapes, c)) + '"'
}

/** Regex literals are verbatim strings: RE2 backslashes stay readable (re2Literal leaves no control character raw). */
const regexString = (re: string): string => '@"' + re.replace(/"/g, '""') + '"'

/**
 * KQL's case-insensitive operators fold ASCII only ("Case-insensitive operators are currently
 * supported only for ASCII-text", https://www.ibm.com/docs/en/uax?topic=functions-equals, a mirror
 * of Microsoft's `=~` page), as Sigma does (docs/semantics.md, "Case folding"). That sentence is
 * gone from the current page, so a value with a non-ASCII letter that has another case does not
 * lean on it: it is matched with a regex that spells the ASCII letters' cases and compares every
 * other character exactly, whatever `=~` does beyond ASCII.
 */
function foldsBeyondAscii(text: string): boolean {
  for (const ch of text) if (codePointAt(ch, 0) > 0x7f && ch.toLowerCase() !== ch.toUpperCase()) return true
  return false
}

/**
 * A value pattern as a whole-value RE2 regex. Case-insensitive patterns spell each ASCII letter as
 * `[Aa]` instead of `(?i)`: RE2's `(?i)` is Unicode simple case folding
 * (https://github.com/google/re2/wiki/Syntax: "case-insensitive"; its fold tables pair `k` with
 * the Kelvin sign and `s` with `ſ`), wider than Sigma's ASCII folding.
 */
function patternToRe2(pattern: Pattern, cased: boolean): string {
  let body = ''
  let dotall = false
  for (const s of normalize(pattern)) {
    if (s.kind === 'lit') body += cased ? re2Literal(s.text) : re2AsciiCaseless(s.text)
    else {
      dotall = true
      body += s.kind === 'any' ? '.*' : '.'
    }
  }
  return (dotall ? '(?s)' : '') + '^' + body + '$'
}

function re2AsciiCaseless(text: string): string {
  let out = ''
  for (const ch of text) out += /^[A-Za-z]$/.test(ch) ? `[${ch.toUpperCase()}${ch.toLowerCase()}]` : re2Literal(ch)
  return out
}

/** True when the pattern accepts the empty string (only `*` segments). */
const acceptsEmpty = (pattern: Pattern): boolean => normalize(pattern).every((s) => s.kind === 'any')

const INTEGER = /^-?(0|[1-9]\d*)$/

function numberLiteral(n: number): string | undefined {
  if (Number.isSafeInteger(n)) return String(n)
  if (Number.isFinite(n) && /^-?\d+\.\d+$/.test(String(n))) return String(n)
  return undefined
}

// ---------------------------------------------------------------------------------------------

interface Ctx {
  readonly env: KqlEnv
  readonly ls: LogSourceEntry
  readonly refusals: Refusals
  readonly noted: Set<string>
  /** Keys of a dynamic bag read as text, and how often: the candidates for `extend` (LONG_QUERY). */
  readonly keyUses?: Map<string, number>
  /** Bag keys read through a column `extend` computes once (`K = tostring(Bag.K)`). */
  readonly bound?: ReadonlySet<string>
}

/**
 * Sentinel's analytics rules take at most 10,000 characters of query ("The query can contain up to
 * 10,000 characters", https://learn.microsoft.com/azure/sentinel/create-analytics-rules). A longer
 * query that reads a key of a dynamic bag (WindowsEvent's EventData) as text in several places
 * reads it once instead: `| extend K = tostring(EventData.K)` then `K` in the predicates. K holds
 * exactly what `tostring(EventData.K)` does ("" for a missing key), so every predicate that is
 * exact on a string column is exact on it (https://learn.microsoft.com/kusto/query/extend-operator).
 * Only keys that are plain identifiers and no column of the table are bound, and only when the
 * rewritten rule compiles without a refusal (a string column cannot say what isnull() of a key
 * says); otherwise the long query stays as it is.
 */
const LONG_QUERY = 10_000
/** Names an extended column must not take: KQL's operators, literals and type names. */
const EXTEND_RESERVED = new Set(
  (
    'and or not in has contains matches between where by on extend project let set as with true false null ' +
    'typeof dynamic datetime string long int real bool boolean timespan guid decimal double startswith endswith regex'
  ).split(' '),
)

function field(ctx: Ctx, name: string, at: Pos | undefined): ResolvedField {
  const r = resolveField(ctx.env, ctx.ls, name)
  if (r === undefined) {
    throw new Refusal(
      'target/unknown-field',
      `kql cannot express field ${name}: neither the field map nor table ${ctx.ls.table} (${describeLogsource(ctx.ls)}) has it`,
      at,
    )
  }
  if (typeof r === 'string') throw new Refusal('target/unknown-field', `kql cannot express field ${name}: ${r}`, at)
  const fixed = ctx.ls.conditions[r.column]
  // A column the record states (WindowsEvent's Channel) holds the event's own value: the rule's test
  // of it is an ordinary test next to the constant. One the kind of record decides is not.
  if (fixed !== undefined && !ctx.ls.stated.includes(r.column)) {
    throw new Refusal(
      'target/unsupported-field',
      `kql cannot express a test of ${name}: column ${r.column} is fixed by the log source (${r.column} == ${typeof fixed === 'object' ? fixed.join(',') : fixed})`,
      at,
    )
  }
  // A key of the bag that takes every other field (WindowsEvent's EventData), read as text.
  const catchAll = ctx.ls.bags.find((b) => b.prefix === '')?.column
  const key = r.column === catchAll && r.path?.length === 1 && r.json !== true ? first(r.path) : undefined
  if (key !== undefined) {
    if (ctx.bound?.has(key)) return { sigma: r.sigma, column: key, type: 'string' }
    ctx.keyUses?.set(key, (ctx.keyUses.get(key) ?? 0) + 1)
  }
  if (r.note && !ctx.noted.has(name)) {
    ctx.noted.add(name)
    ctx.refusals.warn(
      'target/approximate-field',
      `kql: ${name} is mapped to ${ctx.ls.table}.${r.column}, which is not the same value in real data: ${r.note}`,
      at,
    )
  }
  return r
}

const isNumeric = (f: ResolvedField) => f.type === 'long' || f.type === 'int'

/** A key as KQL's dynamic accessor writes it: `.Name` for a plain identifier, else `["…"]`. */
function keyAccess(key: string): string | undefined {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(key) && !KQL_RESERVED.has(key.toLowerCase())) return `.${key}`
  const lit = kqlString(key)
  return lit === undefined ? undefined : `[${lit}]`
}

/** Words a `.Name` accessor must not be (they read as operators); such keys take `["…"]`. */
const KQL_RESERVED = new Set(['and', 'or', 'not', 'in', 'has', 'contains', 'matches', 'between', 'where', 'by', 'on'])

/**
 * What a field's values are read through: the column itself, or for a key of a bag
 * `tostring(Column.key…)` (a dynamic column) or `tostring(parse_json(Column).key…)` (a string
 * column holding JSON text). tostring() of a missing key is "" and of a string value the string
 * (https://learn.microsoft.com/kusto/query/tostring-function); parse_json of JSON text is the
 * dynamic value it denotes (https://learn.microsoft.com/kusto/query/parse-json-function).
 */
function subjectOf(f: ResolvedField, at: Pos | undefined): string {
  return f.path ? `tostring(${accessOf(f, at)})` : f.column
}

/** A bag key's dynamic value: `Column.key…` or `parse_json(Column).key…`. */
function accessOf(f: ResolvedField, at: Pos | undefined): string {
  let text = f.json ? `parse_json(${f.column})` : f.column
  for (const key of f.path ?? []) {
    const access = keyAccess(key)
    if (access === undefined)
      throw new Refusal('target/unknown-field', `kql cannot name the key ${JSON.stringify(key)} of ${f.column}`, at)
    text += access
  }
  return text
}

function requireScalarType(f: ResolvedField, construct: string, at: Pos | undefined): void {
  if (f.type !== 'string' && !isNumeric(f)) {
    throw new Refusal(
      'target/unsupported-field-type',
      `kql cannot express ${construct} on ${f.sigma}: column ${f.column} is of type ${f.type}`,
      at,
    )
  }
}

/** The string operator for a shape, case-insensitive or `_cs` (https://learn.microsoft.com/kusto/query/datatypes-string-operators). */
const OPERATOR = {
  exact: ['=~', '=='],
  contains: ['contains', 'contains_cs'],
  startswith: ['startswith', 'startswith_cs'],
  endswith: ['endswith', 'endswith_cs'],
} as const

/** A string-valued Match: column (or `tostring(column)`) against a pattern. */
function matchString(subject: string, f: ResolvedField, n: NodeOf<'Match'>): string {
  const shape = shapeOf(n.pattern)
  if (shape.kind !== 'wildcard' && shape.kind !== 'anything') {
    const lit = kqlString(shape.text)
    if (lit !== undefined && (n.cased || !foldsBeyondAscii(shape.text))) {
      // `\name.exe` (Windows) or `/name` (Linux, macOS) at the end of a path is the whole file
      // name: the name column says it directly. The separator is the field map's, never assumed.
      const rest = shape.kind === 'endswith' && f.name && f.separator ? nameSuffix(shape.text, f.separator) : undefined
      if (rest !== undefined)
        return `${f.name} ${OPERATOR.exact[n.cased ? 1 : 0]} ${must(kqlString(rest), 'a suffix of a quotable text is quotable')}`
      return `${subject} ${OPERATOR[shape.kind][n.cased ? 1 : 0]} ${lit}`
    }
  }
  return `${subject} matches regex ${regexString(patternToRe2(n.pattern, n.cased))}`
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

function renderMatch(ctx: Ctx, n: NodeOf<'Match'>): string {
  const f = field(ctx, n.field, n.at)
  if (n.pattern.some((s) => s.kind === 'lit' && LONE_SURROGATE.test(s.text))) {
    throw new Refusal(
      'target/unsupported-value',
      `kql cannot express a value of ${n.field} holding a lone UTF-16 surrogate: query text is UTF-8`,
      n.at,
    )
  }
  if (f.type === 'bool' && !f.path) return boolMatch(f, n)
  requireScalarType(f, 'a value match', n.at)
  if (acceptsEmpty(n.pattern) && f.path && !f.json) {
    // A key of a dynamic bag whose values are text (WindowsEvent's EventData) is null when the
    // record lacks it: `*` is "the key is there", `''` "the key is there and empty".
    const access = accessOf(f, n.at)
    return n.pattern.length ? `isnotnull(${access})` : `(isnotnull(${access}) and tostring(${access}) == "")`
  }
  // `*` on a column that is never empty when present: the field is there.
  if (acceptsEmpty(n.pattern) && n.pattern.length > 0 && !f.path && ctx.ls.nonempty.includes(f.column))
    return `isnotempty(${f.column})`
  if (acceptsEmpty(n.pattern)) {
    throw new Refusal(
      'target/unsupported-empty-value',
      `kql cannot express ${n.field} matching ${n.pattern.length ? "'*'" : "''"}: an empty value and a missing one are the same in KQL (strings have no null), so the query could not tell them apart`,
      n.at,
    )
  }
  if (isNumeric(f) && LOGON_ID_COLUMN.test(f.column)) return logonIdMatch(ctx, f, n)
  if (isNumeric(f)) {
    const shape = shapeOf(n.pattern)
    if (shape.kind === 'exact' && INTEGER.test(shape.text) && Number.isSafeInteger(Number(shape.text))) {
      // `==` with a null operand is false (https://learn.microsoft.com/kusto/query/scalar-data-types/null-values).
      return `${f.column} == ${shape.text}`
    }
    // Any other pattern reads the number as text; tostring(null) is "", which no pattern here accepts.
    return matchString(`tostring(${f.column})`, { ...f, name: undefined, separator: undefined } as ResolvedField, n)
  }
  return matchString(subjectOf(f, n.at), f, n)
}

/**
 * A value on a bool column (https://learn.microsoft.com/kusto/query/scalar-data-types/bool): the
 * column holds the record's JSON boolean, which Sigma matches as its text, `true` or `false`. The
 * pattern is tried on both texts: one of them is `== true`/`== false`, both is `isnotnull` (a
 * missing value is null, which Sigma does not match either).
 */
function boolMatch(f: ResolvedField, n: NodeOf<'Match'>): string {
  const hits = ['true', 'false'].filter((t) => patternAccepts(n.pattern, n.cased, t))
  if (hits.length === 2) return `isnotnull(${f.column})`
  if (hits.length === 1) return `${f.column} == ${first(hits)}`
  throw new Refusal(
    'target/unsupported-match',
    `kql cannot match ${JSON.stringify(patternToSigma(n.pattern))} against the bool column ${f.column}: it holds true or false, and the value matches neither`,
    n.at,
  )
}

/** Whether a Sigma pattern accepts a text (ASCII letters folded unless cased), as the reference does. */
function patternAccepts(pattern: Pattern, cased: boolean, text: string): boolean {
  const fold = (t: string) => (cased ? t : t.replace(/[A-Z]/g, (c) => c.toLowerCase()))
  const source = pattern
    .map((s) =>
      s.kind === 'lit' ? fold(s.text).replace(/[\\^$.*+?()[\]{}|]/g, '\\$&') : s.kind === 'any' ? '.*' : '.',
    )
    .join('')
  return new RegExp(`^${source}$`, 'su').test(fold(text))
}

/**
 * Logon ids: Windows writes them as hex text (`0x3e7`, lower-case digits, no leading zero) and
 * Defender stores the same identifier as a long
 * (https://learn.microsoft.com/defender-xdr/advanced-hunting-deviceprocessevents-table, "LogonId
 * long"). A Sigma value in that canonical hex form is the number; on Windows a decimal is text the
 * log never writes and a pattern has no one-to-one counterpart in the column, so both are refused.
 * Elsewhere (Sysmon for Linux) a whole decimal is the number, as for any long column.
 */
const LOGON_ID_COLUMN = /LogonId$/
const CANONICAL_HEX = /^0x(0|[1-9a-f][0-9a-f]*)$/

function logonIdMatch(ctx: Ctx, f: ResolvedField, n: NodeOf<'Match'>): string {
  const shape = shapeOf(n.pattern)
  if (
    ctx.ls.match['product'] !== 'windows' &&
    shape.kind === 'exact' &&
    INTEGER.test(shape.text) &&
    Number.isSafeInteger(Number(shape.text))
  )
    return `${f.column} == ${shape.text}`
  const text =
    shape.kind === 'exact' ? (n.cased ? shape.text : shape.text.replace(/[A-Z]/g, (c) => c.toLowerCase())) : undefined
  if (text !== undefined && CANONICAL_HEX.test(text)) {
    const value = Number.parseInt(text.slice(2), 16)
    if (Number.isSafeInteger(value)) return `${f.column} == ${value}`
  }
  throw new Refusal(
    'target/unsupported-match',
    `kql cannot match ${JSON.stringify(patternToSigma(n.pattern))} against ${f.column} exactly: Defender stores the logon id as a number, which stands only for the hex text Windows writes (0x3e7); give the id in that form`,
    n.at,
  )
}

/** `f in~ ("a", "b")` for an OR of plain values of one field (https://learn.microsoft.com/kusto/query/in-cs-operator). */
function listKey(ctx: Ctx, n: Node): { key: string; column: string; value: string; cased: boolean } | undefined {
  if (n.kind !== 'Match') return undefined
  const shape = shapeOf(n.pattern)
  if (shape.kind !== 'exact' && shape.kind !== 'endswith') return undefined
  const r = resolveField(ctx.env, ctx.ls, n.field)
  if (
    !r ||
    typeof r === 'string' ||
    r.type !== 'string' ||
    (ctx.ls.conditions[r.column] !== undefined && !ctx.ls.stated.includes(r.column)) ||
    r.note
  )
    return undefined
  if (shape.text === '' || kqlString(shape.text) === undefined || (!n.cased && foldsBeyondAscii(shape.text)))
    return undefined
  if (shape.kind === 'exact') {
    let subject: string
    try {
      subject = subjectOf(r, n.at)
    } catch {
      return undefined
    }
    return { key: `${subject}\u0000${n.cased}`, column: subject, value: shape.text, cased: n.cased }
  }
  const rest = r.name && r.separator ? nameSuffix(shape.text, r.separator) : undefined
  if (rest !== undefined && r.name)
    return { key: `${r.name}\u0000${n.cased}`, column: r.name, value: rest, cased: n.cased }
  return undefined
}

function renderOr(ctx: Ctx, n: NodeOf<'Or'>, recur: (n: Node) => string): string {
  const groups = new Map<string, { column: string; cased: boolean; values: string[] }>()
  const parts: Array<string | { group: string }> = []
  for (const item of n.items) {
    const k = listKey(ctx, item)
    if (!k) {
      parts.push(recur(item)) // and binds tighter than or: an and inside needs no parentheses
      continue
    }
    const g = groups.get(k.key)
    if (g) {
      if (!g.values.includes(k.value)) g.values.push(k.value)
    } else {
      groups.set(k.key, { column: k.column, cased: k.cased, values: [k.value] })
      parts.push({ group: k.key })
      recur(item) // the field's diagnostics (warnings) as for any other match
    }
  }
  const text = parts.map((p) => {
    if (typeof p === 'string') return p
    const g = mustGet(groups, p.group)
    if (g.values.length === 1)
      return `${g.column} ${g.cased ? '==' : '=~'} ${must(kqlString(first(g.values)), 'grouped values are quotable')}`
    return `${g.column} ${g.cased ? 'in' : 'in~'} (${g.values.map((v) => must(kqlString(v), 'grouped values are quotable')).join(', ')})`
  })
  // An OR whose values all went into one `in~` list is an atom; otherwise its top operator is `or`.
  if (text.length > 1) joinedByOr.add(n)
  return joinInGroups(text, WHERE.or, KQL.maxRun.size)
}

/** The OR nodes rendered with a top-level `or` (see renderOr). */
const joinedByOr = new WeakSet<Node>()

/** An AND's operand: parenthesised when its top operator binds less tightly than `and`. */
const andOperand = (n: Node, text: string): string =>
  operand(
    text,
    n.kind === 'Or' && joinedByOr.has(n) ? WHERE.bindingPower.Or : WHERE.bindingPower.Not,
    WHERE.bindingPower.And,
  )

function renderRegex(ctx: Ctx, n: NodeOf<'Regex'>): string {
  const f = field(ctx, n.field, n.at)
  requireScalarType(f, 'a regular expression', n.at)
  const t = translateRegex(n.source, n.flags, toRe2)
  if ('unsupported' in t)
    throw new Refusal(UNSUPPORTED_REGEX, unsupportedRegexMessage('kql', n.source, t.unsupported), n.at)
  if (matchesEmpty(n.source, n.flags) && f.path && !f.json) {
    // As for `*` on a bag key: the key must be there, then its text is tested.
    return `(isnotnull(${accessOf(f, n.at)}) and ${subjectOf(f, n.at)} matches regex ${regexString(t.text)})`
  }
  if (matchesEmpty(n.source, n.flags)) {
    throw new Refusal(
      'target/unsupported-empty-value',
      `kql cannot express /${n.source}/ on ${n.field}: it matches the empty string, and an empty value and a missing one are the same in KQL`,
      n.at,
    )
  }
  const subject = isNumeric(f) ? `tostring(${f.column})` : subjectOf(f, n.at)
  return `${subject} matches regex ${regexString(t.text)}`
}

const emptyCache = new Map<string, boolean>()
function matchesEmpty(source: string, flags: { i: boolean; m: boolean; s: boolean }): boolean {
  const key = `${flags.i}${flags.m}${flags.s}/${source}`
  let r = emptyCache.get(key)
  if (r === undefined) {
    try {
      r = new RegExp(source, (flags.i ? 'i' : '') + (flags.m ? 'm' : '') + (flags.s ? 's' : '')).test('')
    } catch {
      r = false
    }
    emptyCache.set(key, r)
  }
  return r
}

/** A strict dotted quad, so that ipv4_is_in_range never sees text it would answer null for. */
const IPV4_OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
const IPV4_STRICT = `^${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}$`

/**
 * A strict IPv6 text: eight groups of 1–4 hex digits, one `::` standing for at least one zero
 * group, or six groups and a dotted quad — the addresses Sigma's reference accepts (no zone id).
 */
const IPV6_STRICT = (() => {
  const h = '[0-9A-Fa-f]{1,4}'
  const groups = (n: number) => (n === 0 ? '' : n === 1 ? h : `${h}(?::${h}){${n - 1}}`)
  const upTo = (n: number) => (n === 1 ? `(?:${h})?` : `(?:${h}(?::${h}){0,${n - 1}})?`)
  const left = groups
  const forms = [`(?:${h}:){7}${h}`, `(?:${h}:){6}${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}`]
  for (let k = 0; k <= 7; k++) forms.push(`${left(k)}::${k === 7 ? '' : upTo(7 - k)}`)
  for (let k = 0; k <= 5; k++)
    forms.push(`${left(k)}::${k === 5 ? '' : `(?:${h}:){0,${5 - k}}`}${IPV4_OCTET}(?:\\.${IPV4_OCTET}){3}`)
  return `^(?:${forms.join('|')})$`
})()

function renderCidr(ctx: Ctx, n: NodeOf<'Cidr'>): string {
  const f = field(ctx, n.field, n.at)
  if (f.type !== 'string')
    throw new Refusal(
      'target/unsupported-field-type',
      `kql cannot express a CIDR test on ${n.field}: column ${f.column} is of type ${f.type}`,
      n.at,
    )
  // ipv4_is_in_range / ipv6_is_in_range return null when an argument does not parse
  // (https://learn.microsoft.com/kusto/query/ipv4-is-in-range-function,
  // https://learn.microsoft.com/kusto/query/ipv6-is-in-range-function): the strict address check
  // keeps the predicate two-valued and keeps text of the other family away from the function.
  const subject = subjectOf(f, n.at)
  if (n.family === 6)
    return `(${subject} matches regex ${regexString(IPV6_STRICT)} and ipv6_is_in_range(${subject}, ${must(kqlString(n.cidr), 'a CIDR is digits, dots, colons and a slash')}))`
  return `(${subject} matches regex ${regexString(IPV4_STRICT)} and ipv4_is_in_range(${subject}, ${must(kqlString(n.cidr), 'a CIDR is digits, dots, colons and a slash')}))`
}

function renderCompare(ctx: Ctx, n: NodeOf<'Compare'>): string {
  const f = field(ctx, n.field, n.at)
  if (!isNumeric(f)) {
    throw new Refusal(
      'target/unsupported-compare',
      `kql cannot express a numeric comparison on ${n.field}: column ${f.column} is a ${f.type}, and reading text as a number has no documented exact rule`,
      n.at,
    )
  }
  const v = numberLiteral(n.value)
  if (v === undefined)
    throw new Refusal('target/unsupported-compare', `kql cannot express the number ${n.value} as a literal`, n.at)
  // A comparison with null is null: the isnotnull guard keeps the predicate two-valued under not().
  return `(isnotnull(${f.column}) and ${f.column} ${COMPARE[n.op]} ${v})`
}

function renderPresence(ctx: Ctx, n: NodeOf<'Exists'> | NodeOf<'Null'>): string {
  const f = field(ctx, n.field, n.at)
  if (isNumeric(f) || (f.type === 'bool' && !f.path))
    return n.kind === 'Exists' ? `isnotnull(${f.column})` : `isnull(${f.column})`
  // A key of a bag is null when the record has no such key (or holds null there): unlike a
  // string column, a bag tells a missing value from an empty one
  // (https://learn.microsoft.com/kusto/query/isnull-function).
  if (f.path) return n.kind === 'Exists' ? `isnotnull(${accessOf(f, n.at)})` : `isnull(${accessOf(f, n.at)})`
  // A column that is never empty when the record has the field: "" is the missing field
  // (https://learn.microsoft.com/kusto/query/isempty-function).
  if (ctx.ls.nonempty.includes(f.column))
    return n.kind === 'Exists' ? `isnotempty(${f.column})` : `isempty(${f.column})`
  const what = n.kind === 'Exists' ? 'exists' : 'null'
  throw new Refusal(
    `target/unsupported-${what}`,
    `kql cannot express "${n.field} ${n.kind === 'Exists' ? 'exists' : 'is null'}" on string column ${f.column}: KQL strings are never null (a missing value is ""), so an empty value and a missing one cannot be told apart`,
    n.at,
  )
}

function renderFieldRef(ctx: Ctx, n: NodeOf<'FieldRef'>): string {
  const a = field(ctx, n.field, n.at)
  const b = field(ctx, n.ref, n.at)
  if (isNumeric(a) && isNumeric(b))
    return `(isnotnull(${a.column}) and isnotnull(${b.column}) and ${a.column} == ${b.column})`
  throw new Refusal(
    'target/unsupported-fieldref',
    `kql cannot express "${n.field} equals ${n.ref}" on string columns: two empty values are equal while two missing ones are not, and KQL cannot tell them apart`,
    n.at,
  )
}

/**
 * Whether a keyword could match the text of a number or a boolean (JSON: `-1.5e+21`, `true`,
 * `false`). A Sigma keyword searches an event's string values only, while a string column holds a
 * number or boolean the record logged as its text, and an integer column the number a decimal text
 * stood for: a keyword that can match neither text is answered the same by both. A number's text
 * holds only the characters below; the two boolean texts are tried as they are.
 */
const NUMBER_TEXT = new Set('0123456789+-.eE')
function couldMatchNumberOrBoolean(pattern: Pattern, cased: boolean): boolean {
  if (pattern.every((s) => s.kind !== 'lit' || [...s.text].every((c) => NUMBER_TEXT.has(c)))) return true
  return ['true', 'false'].some((t) => patternAccepts(pattern, cased, t))
}

/**
 * A keyword: the pattern against every column that holds a value of the record (the log source's
 * `keywords`), for records that have no other fields — a Syslog line is its header columns and its
 * message. Any one column matching is a hit, as Sigma's keyword is a hit on any string value.
 */
function renderKeyword(ctx: Ctx, n: NodeOf<'Keyword'>): string {
  const columns = ctx.ls.keywords
  if (!columns)
    throw new Refusal(
      KQL.refuses.Keyword,
      `kql cannot express a keyword search exactly on ${ctx.ls.table}: an event's fields that the table has no column for are not in the row, and \`search\`/\`has\` match terms, not substrings`,
      n.at,
    )
  if (n.pattern.some((s) => s.kind === 'lit' && LONE_SURROGATE.test(s.text)))
    throw new Refusal(
      'target/unsupported-value',
      'kql cannot express a keyword holding a lone UTF-16 surrogate: query text is UTF-8',
      n.at,
    )
  if (couldMatchNumberOrBoolean(n.pattern, n.cased))
    throw new Refusal(
      KQL.refuses.Keyword,
      `kql cannot express the keyword ${JSON.stringify(patternToSigma(n.pattern))} exactly: it could match the text of a number or a boolean, which a Sigma keyword does not search but a ${ctx.ls.table} column holds as text`,
      n.at,
    )
  const parts = columns.map((column) =>
    matchString(
      column,
      { sigma: column, column, type: 'string' },
      {
        kind: 'Match',
        field: column,
        pattern: n.pattern,
        cased: n.cased,
      },
    ),
  )
  return parts.length === 1 ? first(parts) : `(${parts.join(WHERE.or)})`
}

function render(ctx: Ctx, node: Node): string {
  // A refused leaf stands as false while the rest of the rule is still checked for refusals.
  const leaf = (render: () => string): string => ctx.refusals.leaf(render, 'false')
  return fold<string>(lower(KQL, node), {
    And: (n, recur) =>
      joinInGroups(
        n.items.map((i) => andOperand(i, recur(i))),
        WHERE.and,
        KQL.maxRun.size,
      ),
    Or: (n, recur) => renderOr(ctx, n, recur),
    // not() is a function: its argument needs no parentheses of its own.
    Not: (n, recur) => `${WHERE.not}(${recur(n.item)})`,
    Match: (n) => leaf(() => renderMatch(ctx, n)),
    Regex: (n) => leaf(() => renderRegex(ctx, n)),
    Cidr: (n) => leaf(() => renderCidr(ctx, n)),
    Compare: (n) => leaf(() => renderCompare(ctx, n)),
    Exists: (n) => leaf(() => renderPresence(ctx, n)),
    Null: (n) => leaf(() => renderPresence(ctx, n)),
    FieldRef: (n) => leaf(() => renderFieldRef(ctx, n)),
    Keyword: (n) => leaf(() => renderKeyword(ctx, n)),
  })
}

function conditionText(column: string, value: ConditionValue): string {
  const literal = (v: string | number) => (typeof v === 'number' ? String(v) : kqlString(v))
  // `in` is case-sensitive, as `==` is: ActionType values are fixed spellings.
  // https://learn.microsoft.com/kusto/query/in-operator
  if (typeof value === 'object') return `${column} in (${value.map(literal).join(', ')})`
  return `${column} == ${literal(value)}`
}

/** The host-name column of a table: DeviceName (Defender), Computer (Log Analytics), DvcHostname (ASIM). */
function hostColumnOf(env: KqlEnv, ls: LogSourceEntry): string | undefined {
  const columns = env.tables[ls.table] ?? {}
  return ['DeviceName', 'Computer', 'DvcHostname'].find((c) => columns[c] === 'string')
}

/** Target facts the formats read: table, entity and host columns of the schema family. */
function formatContext(env: KqlEnv, ls: LogSourceEntry): Record<string, unknown> {
  const defender = env.variant === 'defender'
  return {
    variant: env.variant,
    table: ls.table,
    logsource: ls.name,
    entity: ls.entity ?? (defender ? 'DeviceId' : 'Computer'),
    entityIdentifier: defender ? 'deviceId' : 'deviceName',
    // The column the Sentinel formats map to a Host entity: one the table has (a mapping names a
    // column of the query's result), else none and the formats write no entity mapping.
    hostColumn: hostColumnOf(env, ls),
    timeColumn: defender ? 'Timestamp' : 'TimeGenerated',
  }
}

/** The long query with each bag key read more than once bound by `extend` (LONG_QUERY), if it compiles so. */
function withExtend(ctx: Ctx, rule: Rule, conditions: readonly string[]): { query: string; ctx: Ctx } | undefined {
  const columns = ctx.env.tables[ctx.ls.table] ?? {}
  const bag = ctx.ls.bags.find((b) => b.prefix === '')
  if (!bag) return undefined
  const keys = [...(ctx.keyUses ?? [])]
    .filter(
      ([k, n]) =>
        n > 1 &&
        /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) &&
        columns[k] === undefined &&
        !EXTEND_RESERVED.has(k.toLowerCase()),
    )
    .map(([k]) => k)
    .sort()
  if (keys.length === 0) return undefined
  const bound: Ctx = {
    env: ctx.env,
    ls: ctx.ls,
    refusals: new Refusals('kql', rule),
    noted: new Set(),
    bound: new Set(keys),
  }
  const where = render(bound, rule.detection)
  if (bound.refusals.refused) return undefined
  const extend = `| extend ${keys.map((k) => `${k} = tostring(${bag.column}.${k})`).join(', ')}`
  return { query: [ctx.ls.table, ...conditions, extend, `| where ${where}`].join('\n'), ctx: bound }
}

export const backend: Backend = {
  id: 'kql',
  compile(rule: Rule, options?: TargetOptions): Compiled {
    const r = kqlEnvs(options)
    if (r.error !== undefined) return pipelineError('kql', rule, options, r.error)
    // Each family the workspace has, Defender first, and in each the tables that hold the log
    // source, best first: the first that expresses the rule exactly takes it. When none does, the
    // first one's refusal says why.
    let refused: Compiled | undefined
    for (const env of r.envs) {
      for (const ls of candidateLogSources(env, rule.logsource)) {
        const ctx: Ctx = { env, ls, refusals: new Refusals('kql', rule), noted: new Set(), keyUses: new Map() }
        const where = render(ctx, rule.detection)
        if (ctx.refusals.refused) {
          refused ??= { diagnostics: ctx.refusals.diagnostics }
          continue
        }
        // Other records of the same activity in the same table (Security 4688 beside Sysmon's event
        // 1 in WindowsEvent), each under its own conditions: only when the rule reads nothing but
        // fields that record holds (a field it lacks would be missing there, and a filter on it
        // would let every such record through).
        const fields = fieldsOf(rule.detection)
        const branches = ls.also
          .filter((a) => records(a, fields))
          .flatMap((a) => {
            const actx: Ctx = { env, ls: a, refusals: new Refusals('kql', rule), noted: new Set() }
            const w = render(actx, rule.detection)
            return actx.refusals.refused ? [] : [{ ls: a, where: w }]
          })
        if (branches.length > 0) {
          const scoped = (b: { ls: LogSourceEntry; where: string }) =>
            `(${[...Object.entries(b.ls.conditions).map(([c, v]) => conditionText(c, v)), `(${b.where})`].join(' and ')})`
          return {
            query: `${ls.table}\n| where ${[{ ls, where }, ...branches].map(scoped).join(' or ')}`,
            diagnostics: ctx.refusals.diagnostics,
            context: formatContext(env, ls),
          }
        }
        const conditions = Object.entries(ls.conditions).map(([c, v]) => `| where ${conditionText(c, v)}`)
        const query = [ls.table, ...conditions, `| where ${where}`].join('\n')
        const shorter = query.length > LONG_QUERY ? withExtend(ctx, rule, conditions) : undefined
        return {
          query: shorter?.query ?? query,
          diagnostics: (shorter?.ctx ?? ctx).refusals.diagnostics,
          context: formatContext(env, ls),
        }
      }
    }
    if (refused) return refused
    const names = r.envs.map((e) => e.variant)
    const elsewhere = options?.pipeline
      ? []
      : variants().filter(
          (v) =>
            !names.includes(v) &&
            kqlEnvs({ variant: v }).envs?.some((e) => candidateLogSources(e, rule.logsource).length > 0),
        )
    const widened = familiesOf([...names, elsewhere[0]].join(','))
    const hint = elsewhere.length
      ? ` (the ${elsewhere.join(', ')} schema family has it: --variant ${typeof widened === 'string' ? elsewhere[0] : widened.join(',')})`
      : ''
    const message = unsupportedLogSource(
      `kql (${names.join(', ')})`,
      'table',
      rule.logsource,
      r.envs.flatMap((e) => e.logsources),
      { hint, where: (ls) => ls.table },
    )
    return refuseRule('kql', rule, 'target/unsupported-logsource', message)
  },
}
