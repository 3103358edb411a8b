/**
 * The osquery backend: a Sigma rule → one SQLite `SELECT` over the osquery table of its log source.
 * Every predicate is chosen so that SQLite answers exactly what the reference evaluator answers:
 * LIKE and NOCASE (ASCII-only folding, as Sigma's), GLOB for case-sensitive wildcards, `regex_match`
 * for the regex subset std::regex reads the same way, and explicit NULL guards under NOT.
 * Semantics and citations: docs/targets/osquery.md.
 *
 * Emitted SQL (windows process_creation, `Image|endswith: \sc.exe`, `CommandLine|contains: stop`):
 *   SELECT * FROM process_etw_events WHERE type = 'ProcessStart' AND path LIKE '%\sc.exe' AND cmdline LIKE '%stop%';
 */
import { fieldsOf, type Node, type NodeOf, type Pos } from '../ast/nodes.js'
import { normalize, shapeOf } from '../ast/pattern.js'
import { parseCidr } from '../evaluate/cidr.js'
import type { Rule } from '../rule/rule.js'
import { joinInHalves } from '../passes/balance.js'
import type { Backend, Compiled, TargetOptions } from './types.js'
import { COMPARE, lower, operand, type TargetSpec } from './spec.js'
import { unsupportedLogSource } from './environment.js'
import { pipelineError, Refusal, Refusals, refuseRule } from './refusal.js'
import {
  isIntegerType,
  loadEnv,
  placeOf,
  records,
  resolveLogSource,
  type Env,
  type FieldPlace,
  type LogSourceEntry,
} from './osquery-env.js'
import { globPattern, likePattern, literalProblem, sqlString } from './osquery-sql.js'
import { toStdRegex } from '../regex/std-regex.js'
import { translateRegex, unsupportedRegexMessage } from '../regex/index.js'
import { must, mustGet } from '../guards.js'

/** The language facts the renderer reads. */
export const OSQUERY = {
  id: 'osquery',
  contexts: {
    where: {
      and: ' AND ',
      or: ' OR ',
      not: 'NOT ',
      // OR < AND < NOT < comparisons. https://sqlite.org/lang_expr.html#operators_and_parse_affecting_attributes
      bindingPower: { Or: 1, And: 2, Not: 3 },
      // A quote inside a string literal is doubled. https://sqlite.org/lang_expr.html#literal_values_constants_
      string: { quote: "'", escapes: { "'": "''" } },
    },
  },
  // NOT over a NULL test is the opposite test (both are two-valued): `|neq` reads cleanly.
  passes: ['negatePresence'],
  // SQLite rejects expressions deeper than 1000 (SQLITE_MAX_EXPR_DEPTH, https://sqlite.org/limits.html)
  // and parses a flat run left-deep: longer runs are joined as parenthesised halves.
  maxRun: { size: 16, shape: 'halves' },
  // A row is a set of typed columns with no full-text search across them.
  refuses: { Keyword: 'target/unsupported-keyword' },
} as const satisfies TargetSpec

const WHERE = OSQUERY.contexts.where
const AND = WHERE.bindingPower.And
/** Comparisons and function calls, which bind tighter than any boolean operator. */
const ATOM = WHERE.bindingPower.Not

interface Sql {
  readonly text: string
  readonly prec: number
}

interface Ctx {
  readonly env: Env
  readonly ls: LogSourceEntry
  readonly refusals: Refusals
  /** Column → the Sigma field that claimed it: one column cannot hold two fields' values. */
  readonly columns: Map<string, string>
}

/** What stands in a refused leaf's place while the rest of the rule is checked for refusals. */
const REFUSED: Sql = { text: 'NULL', prec: ATOM }

type Construct = 'value' | 'compare' | 'cidr' | 'regex' | 'field' | 'fieldref' | 'case-folding'

function refuse(construct: Construct, message: string, at?: Pos): never {
  throw new Refusal(`target/unsupported-${construct}`, message, at)
}

/** A column name as SQLite reads it; osquery's names are plain lower-case words. */
const ident = (name: string): string => (/^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`)

function expr(place: FieldPlace): string {
  // json_extract returns the SQL value of a JSON scalar, NULL for a missing key or JSON null.
  // https://sqlite.org/json1.html#jex
  return place.kind === 'column'
    ? ident(place.column)
    : `json_extract(${ident(place.column)}, ${sqlString(place.path)})`
}

function resolve(ctx: Ctx, field: string, at: Pos | undefined): FieldPlace {
  const place = placeOf(ctx.env, ctx.ls, field)
  if (!place) {
    throw new Refusal(
      'target/unknown-field',
      `osquery cannot express field '${field}': table ${ctx.ls.table} (log source ${ctx.ls.name}) has no column for it`,
      at,
    )
  }
  if (place.kind === 'column' && Object.prototype.hasOwnProperty.call(ctx.ls.conditions, place.column)) {
    refuse(
      'field',
      `osquery cannot express field '${field}': its column ${place.column} is fixed by log source ${ctx.ls.name}`,
      at,
    )
  }
  const key = place.kind === 'column' ? place.column : `${place.column}:${place.path}`
  const owner = ctx.columns.get(key)
  if (owner !== undefined && owner !== field) {
    refuse(
      'field',
      `osquery cannot express fields '${owner}' and '${field}' in one query: both map to ${place.kind === 'column' ? `column ${place.column}` : place.path}`,
      at,
    )
  }
  ctx.columns.set(key, field)
  return place
}

/** Under NOT, a NULL operand must read as false, not unknown: SQL's NOT NULL is NULL (row dropped). */
function guarded(e: string, pred: string, negated: boolean, twoValued = false): Sql {
  return negated && !twoValued ? { text: `${e} IS NOT NULL AND ${pred}`, prec: AND } : { text: pred, prec: ATOM }
}

const CANONICAL_INT = /^-?(0|[1-9][0-9]{0,15})$/

function match(ctx: Ctx, n: NodeOf<'Match'>, negated: boolean): Sql {
  const place = resolve(ctx, n.field, n.at)
  const p = normalize(n.pattern)
  for (const s of p) {
    const problem = s.kind === 'lit' ? literalProblem(s.text) : undefined
    if (problem) refuse('value', `osquery cannot express a value holding ${problem} (field '${n.field}')`, n.at)
  }
  const e = expr(place)
  const shape = shapeOf(p)
  if (shape.kind === 'anything') return { text: `${e} IS NOT NULL`, prec: ATOM }
  // Integer columns hold integers; an integer's text has no letters, so case does not matter.
  if (place.kind === 'column' && isIntegerType(place.type) && shape.kind === 'exact') {
    const ok = CANONICAL_INT.test(shape.text) && Number.isSafeInteger(Number(shape.text))
    return guarded(e, ok ? `${e} = ${shape.text}` : `CAST(${e} AS TEXT) = ${sqlString(shape.text)}`, negated)
  }
  if (n.cased) {
    // `=` follows the column's collation (NOCASE on a few osquery columns); GLOB is always
    // case-sensitive. https://sqlite.org/datatype3.html#collation
    const nocase = place.kind === 'column' && place.nocase
    if (shape.kind === 'exact')
      return guarded(e, `${e} = ${sqlString(shape.text)}${nocase ? ' COLLATE BINARY' : ''}`, negated)
    return guarded(e, `${e} GLOB ${sqlString(globPattern(p))}`, negated)
  }
  // Case-insensitive: LIKE and NOCASE fold ASCII letters only ("only ASCII characters are case
  // folded", https://sqlite.org/c3ref/strlike.html; "The NOCASE collating sequence … only folds
  // the 26 upper case ASCII characters", https://sqlite.org/datatype3.html#collation), which is
  // Sigma's folding (docs/semantics.md, "Case folding"): every value is exact as written.
  const text = p.map((s) => (s.kind === 'lit' ? s.text : '')).join('')
  if (shape.kind === 'exact')
    return guarded(e, `${e} = ${sqlString(text)}${/[A-Za-z]/.test(text) ? ' COLLATE NOCASE' : ''}`, negated)
  const like = likePattern(p)
  return guarded(e, `${e} LIKE ${sqlString(like.text)}${like.escape ? " ESCAPE '\\'" : ''}`, negated)
}

/** JavaScript's `\s` (no `u` flag), which the reference evaluator trims around numbers. */
const JS_WHITE_SPACE =
  'char(9, 10, 11, 12, 13, 32, 160, 5760, 8192, 8193, 8194, 8195, 8196, 8197, 8198, 8199, 8200, 8201, 8202, 8232, 8233, 8239, 8287, 12288, 65279)'
const NUMBER_RE = '^[+-]?([0-9]+([.][0-9]*)?|[.][0-9]+)([eE][+-]?[0-9]+)?$'

function compare(ctx: Ctx, n: NodeOf<'Compare'>, negated: boolean): Sql {
  const place = resolve(ctx, n.field, n.at)
  if (!Number.isFinite(n.value)) refuse('compare', `osquery cannot express a comparison with ${n.value}`, n.at)
  const e = expr(place)
  const op = `${COMPARE[n.op]} ${String(n.value)}`
  if (place.kind === 'column' && (isIntegerType(place.type) || place.type === 'DOUBLE'))
    return guarded(e, `${e} ${op}`, negated)
  // Text: a TEXT value compared with a number is always greater (https://sqlite.org/datatype3.html#comparisons),
  // so the text must first be checked to be a number as Sigma reads one, then cast.
  const t = `trim(${e}, ${JS_WHITE_SPACE})`
  return { text: `regex_match(${t}, ${sqlString(NUMBER_RE)}, 0) IS NOT NULL AND CAST(${t} AS REAL) ${op}`, prec: AND }
}

const IPV4_OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])'
const IPV4_RE = `^(${IPV4_OCTET}[.]){3}${IPV4_OCTET}$`

function ipv4Text(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.')
}

function cidr(ctx: Ctx, n: NodeOf<'Cidr'>, negated: boolean): Sql {
  const place = resolve(ctx, n.field, n.at)
  const c = parseCidr(n.cidr)
  if (!c) refuse('cidr', `osquery cannot express the malformed network '${n.cidr}'`, n.at)
  if (c.family === 6)
    refuse(
      'cidr',
      `osquery cannot express the IPv6 network '${n.cidr}' exactly: in_cidr_block fails the whole query on a value that is not an address, and no regex under osquery's 256-byte limit recognises IPv6 addresses`,
      n.at,
    )
  const e = expr(place)
  const first = c.network
  const last = c.network | ((1n << BigInt(32 - c.prefix)) - 1n)
  if (c.prefix === 32) return guarded(e, `${e} = ${sqlString(ipv4Text(first))}`, negated)
  const ends = `${e} IN (${sqlString(ipv4Text(first))}, ${sqlString(ipv4Text(last))})`
  if (c.prefix === 31) return guarded(e, ends, negated)
  // in_cidr_block(cidr, ip) errors on a non-text or unparsable ip (failing the whole query), and uses
  // Boost's network_v4::hosts(), which leaves out the network and broadcast addresses: those two are
  // matched by IN, and CASE keeps the call away from anything but a dotted-quad text.
  // osquery/sql/sqlite_network.cpp; https://sqlite.org/lang_expr.html#the_case_expression
  const call = `CASE WHEN typeof(${e}) = 'text' AND regex_match(${e}, ${sqlString(IPV4_RE)}, 0) IS NOT NULL THEN in_cidr_block(${sqlString(`${ipv4Text(first)}/${c.prefix}`)}, ${e}) ELSE 0 END = 1`
  return guarded(e, `(${ends} OR ${call})`, negated)
}

function fieldRef(ctx: Ctx, n: NodeOf<'FieldRef'>, negated: boolean): Sql {
  const a = resolve(ctx, n.field, n.at)
  const b = resolve(ctx, n.ref, n.at)
  const ea = expr(a),
    eb = expr(b)
  // Case-insensitive: COLLATE NOCASE folds ASCII letters only, as Sigma does (above); |cased:
  // BINARY, whatever the columns' own collation.
  const collate = n.cased ? ' COLLATE BINARY' : ' COLLATE NOCASE'
  const plain = (p: FieldPlace) => p.kind === 'json' || (p.type === 'TEXT' && !p.nocase)
  const pred = plain(a) && plain(b) && n.cased ? `${ea} = ${eb}` : `CAST(${ea} AS TEXT) = CAST(${eb} AS TEXT)${collate}`
  return negated
    ? { text: `${ea} IS NOT NULL AND ${eb} IS NOT NULL AND ${pred}`, prec: AND }
    : { text: pred, prec: ATOM }
}

function emit(ctx: Ctx, n: Node, negated: boolean): Sql {
  switch (n.kind) {
    case 'And':
    case 'Or': {
      const bp = WHERE.bindingPower[n.kind]
      const parts = n.items.map((i) => {
        const s = emit(ctx, i, negated)
        return operand(s.text, s.prec, bp)
      })
      return { text: joinInHalves(parts, n.kind === 'And' ? WHERE.and : WHERE.or, OSQUERY.maxRun.size), prec: bp }
    }
    case 'Not': {
      const s = emit(ctx, n.item, true)
      return { text: `${WHERE.not}(${s.text})`, prec: ATOM }
    }
    default:
      // A leaf: a refusal it throws is recorded, and NULL stands in its place.
      return ctx.refusals.leaf(() => leaf(ctx, n, negated), REFUSED)
  }
}

function leaf(ctx: Ctx, n: Exclude<Node, { kind: 'And' | 'Or' | 'Not' }>, negated: boolean): Sql {
  switch (n.kind) {
    case 'Match':
      return match(ctx, n, negated)
    case 'Regex': {
      const place = resolve(ctx, n.field, n.at)
      const bad = literalProblem(n.source)
      if (bad) refuse('regex', `osquery cannot express a regex holding ${bad}`, n.at)
      const lowered = translateRegex(n.source, n.flags, toStdRegex)
      if ('unsupported' in lowered)
        refuse('regex', unsupportedRegexMessage('osquery', n.source, lowered.unsupported), n.at)
      // regex_match returns the matched text or NULL; a bare match of "0" would read as false.
      // osquery/sql/sqlite_string.cpp
      return { text: `regex_match(${expr(place)}, ${sqlString(lowered.text)}, 0) IS NOT NULL`, prec: ATOM }
    }
    case 'Cidr':
      return cidr(ctx, n, negated)
    case 'Compare':
      return compare(ctx, n, negated)
    case 'Exists':
    case 'Null': {
      const place = resolve(ctx, n.field, n.at)
      return { text: `${expr(place)} ${n.kind === 'Exists' ? 'IS NOT NULL' : 'IS NULL'}`, prec: ATOM }
    }
    case 'FieldRef':
      return fieldRef(ctx, n, negated)
    case 'Keyword':
      throw new Refusal(
        OSQUERY.refuses.Keyword,
        'osquery cannot express a keyword search: a row is a set of typed columns with no full-text search across them',
        n.at,
      )
  }
}

function conditionSql(column: string, value: string | number | readonly (string | number)[]): string {
  const lit = (v: string | number) => (typeof v === 'number' ? String(v) : sqlString(v))
  if (typeof value === 'object') return `${ident(column)} IN (${value.map(lit).join(', ')})`
  return `${ident(column)} = ${lit(value)}`
}

/** The rule's detection as SQL over one log source's table, or the refusals that stop it. */
function emitFor(env: Env, ls: LogSourceEntry, rule: Rule) {
  const ctx: Ctx = { env, ls, refusals: new Refusals('osquery', rule), columns: new Map() }
  const detection = emit(ctx, lower(OSQUERY, rule.detection), false)
  const diagnostics = ctx.refusals.diagnostics
  return {
    ls,
    detection,
    refused: ctx.refusals.refused,
    diagnostics,
    codes: new Set(diagnostics.filter((d) => d.severity === 'error').map((d) => d.code)),
  }
}

export const backend: Backend = {
  id: 'osquery',
  compile(rule: Rule, options?: TargetOptions): Compiled {
    const loaded = loadEnv(options?.pipeline)
    if (!loaded.env) return pipelineError('osquery', rule, options, loaded.error ?? 'invalid osquery environment')
    const env = loaded.env
    let ls = resolveLogSource(env, rule.logsource)
    if (!ls) {
      const message = unsupportedLogSource('osquery', 'table', rule.logsource, env.logsources)
      return refuseRule('osquery', rule, 'target/unsupported-logsource', message)
    }
    let ctx = emitFor(env, ls, rule)
    // A field this table has no column for: the fallback log source's table may hold it (Windows
    // process creation: ETW's process_etw_events, else Sysmon's event 1 in windows_events). When
    // the fallback refuses too, its refusals are reported: they are what stops the rule.
    const fallback = ls.fallback
    if (ctx.refused && fallback !== undefined && ctx.codes.has('target/unknown-field')) {
      const other = must(
        env.logsources.find((o) => o.name === fallback),
        'a fallback names a log source (checked when the environment loads)',
      )
      // Its refusals, if it refuses too, are the ones that stop the rule there.
      ctx = emitFor(env, other, rule)
    }
    if (ctx.refused) return { diagnostics: ctx.diagnostics }
    ls = ctx.ls
    const scoped = (c: typeof ctx) =>
      [
        ...Object.entries(c.ls.conditions).map(([col, v]) => conditionSql(col, v)),
        operand(c.detection.text, c.detection.prec, WHERE.bindingPower.And),
      ].join(WHERE.and)
    // Other records of the same activity in the same table (Security 4688 beside Sysmon's event 1),
    // each under its own conditions: only when the rule reads nothing but fields that record holds
    // (a field it lacks would be missing there, and a filter on it would let every such record through).
    const fields = fieldsOf(rule.detection)
    const branches = [ctx, ...ls.also.filter((a) => records(a, fields)).map((a) => emitFor(env, a, rule))].filter(
      (b) => !b.refused,
    )
    const where = branches.length === 1 ? scoped(ctx) : branches.map((b) => `(${scoped(b)})`).join(WHERE.or)
    const table = mustGet(env.tables, ls.table)
    return {
      query: `SELECT * FROM ${ident(ls.table)} WHERE ${where};`,
      diagnostics: ctx.diagnostics,
      context: {
        table: ls.table,
        logsource: ls.name,
        platform: ls.platform,
        interval: ls.interval,
        evented: table.evented,
      },
    }
  },
}
