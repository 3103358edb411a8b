/**
 * The SPL verifier: parses SPL text with grammars/spl.ts and runs it over events the way Splunk's
 * documentation says it runs, each event placed where its origin lands in Splunk
 * (src/verify/spl-events.ts). It shares nothing with the backend. Each semantic rule cites its
 * page; "[our reading]" marks a choice the documentation leaves open (listed in docs/targets/spl.md).
 */
import { parseSpl, type Command, type EvalExpr, type SearchExpr, type SearchValue } from '../../grammars/spl.js'
import type { Diagnostic, DiagnosticCode } from '../diagnostics.js'
import type { JsonEvent } from '../rule/rule.js'
import type { TargetOptions } from '../target-ids.js'
import { pcreToRegExp } from './spl-pcre.js'
import {
  cimFields,
  cimRecord,
  knownIn,
  inSubnet,
  splModel,
  splPlacement,
  subnet,
  type SplRecord,
} from './spl-events.js'
import type { LeftOut, Verified, Verifier } from './types.js'
import { globMatches, globPattern, type GlobPattern } from './glob.js'
import { RegexBudgetError } from '../bounded-regex.js'
import { entryOf, first, itemAt } from '../guards.js'

/** Raised inside evaluation for text the verifier does not know how to run; reported, never thrown out. */
export class Unsupported extends Error {}

// --- search ------------------------------------------------------------------------------------

const wildcardCache = new Map<string, GlobPattern>()

/** ASCII letters to lower case, nothing else (the model of search's folding and of lower(), below). */
const splFold = (s: string): string => s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32))

/**
 * A search value against a field value: case-insensitive
 * (https://help.splunk.com/splunk-enterprise/search/search-manual/10.0/search-primer/use-case-and-term-to-match-phrases:
 * "By default, searches are case-insensitive"), `*` matching any run of characters, there being no
 * escape for it (https://help.splunk.com/splunk-enterprise/search/search-manual/9.4/search-primer/backslashes),
 * and the whole value matched. Case folding: ASCII letters only [our reading, unverified: the
 * page's examples are ASCII (`Error`, `error`, `ERROR`) and no Splunk page says how `É` or the
 * Kelvin sign fold]. The model is deliberately the narrow one; docs/semantics.md lists it as a
 * limit of the SPL proof.
 */
function wildcardMatch(pattern: string, value: string): boolean {
  let glob = wildcardCache.get(pattern)
  if (!glob) {
    glob = globPattern(splFold(pattern), '*', '')
    wildcardCache.set(pattern, glob)
  }
  return globMatches(glob, splFold(value))
}

/**
 * `f=v`: some value of f matches (a multivalue field matches when any value does [our reading]).
 *
 * A value that is an IPv4 or IPv6 address or a CIDR subnet, quoted or not, is matched as a subnet
 * (an address as the subnet of that one address): the field's value must be an address in it.
 * "The search command supports IPv4 and IPv6 addresses and subnets that use CIDR notation"
 * (https://help.splunk.com/splunk-enterprise/spl-search-reference/9.2/search-commands/search);
 * a published run shows `search IPV4="10.20.30.4/30"` selecting 10.20.30.4…7, quoted
 * (https://qiita.com/frozencatpisces/items/67f0e141856f31f74f03). A field value that is no
 * address does not match such a value, even when it is the same text [our reading].
 */
function valueMatches(v: SearchValue, value: string): boolean {
  if (subnet(v.text)) return inSubnet(value, v.text)
  return wildcardMatch(v.text, value)
}

function evalSearch(e: SearchExpr, rec: SplRecord): boolean {
  switch (e.kind) {
    case 'and':
      return e.items.every((x) => evalSearch(x, rec))
    case 'or':
      return e.items.some((x) => evalSearch(x, rec))
    case 'not':
      // NOT keeps events without the field ("NOT is not the same as !=").
      // https://help.splunk.com/splunk-enterprise/search/spl2-search-reference/search-command/search-command-examples
      return !evalSearch(e.item, rec)
    case 'in':
      // `f IN (a, b)` is `f=a OR f=b`, wildcards allowed.
      return (rec.get(e.field) ?? []).some((x) => e.values.some((v) => valueMatches(v, x)))
    case 'compare': {
      const values = rec.get(e.field) ?? []
      if (e.op === '=') return values.some((x) => valueMatches(e.value, x))
      // `f!=v`: only events that have f, with no value matching [our reading of the same page].
      if (e.op === '!=') return values.length > 0 && !values.some((x) => valueMatches(e.value, x))
      throw new Unsupported(`the search comparison ${e.field}${e.op}`)
    }
    case 'term':
      // A bare term searches _raw; `*` alone matches every event.
      if (e.value.text === '*') return true
      throw new Unsupported(`the bare search term ${JSON.stringify(e.value.text)} (it searches the raw event text)`)
  }
}

// --- eval (where) ------------------------------------------------------------------------------

/** An eval value: null, a scalar, or a multivalue (two or more values). */
export type Value = null | string | number | boolean | readonly string[]

const valuesOf = (v: Value): readonly (string | number | boolean)[] =>
  v === null ? [] : typeof v === 'object' ? v : [v]
const fromValues = (vs: readonly string[]): Value => (vs.length === 0 ? null : vs.length === 1 ? first(vs) : vs)
const text = (v: string | number | boolean): string => (typeof v === 'string' ? v : String(v))

/** A scalar argument; a multivalue where a scalar is expected gives NULL [our reading]. */
function scalar(v: Value): string | number | boolean | null {
  if (v === null || typeof v === 'object') return null
  return v
}

/** tonumber(): a decimal number, else NULL [our reading of "converts a string to a number"]. */
function toNumber(v: Value): number | null {
  const s = scalar(v)
  if (typeof s === 'number') return s
  if (typeof s === 'string' && /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s)) return Number(s)
  return null
}

function regexOf(pattern: Value): { test: (s: string) => boolean } {
  const p = scalar(pattern)
  if (typeof p !== 'string') throw new Unsupported('a regular expression that is not a string literal')
  const r = pcreToRegExp(p)
  if ('unsupported' in r) throw new Unsupported(`the PCRE construct ${r.unsupported} in ${JSON.stringify(p)}`)
  return r
}

/** The one field an mvfilter/mvmap expression reads ("can reference only one field"). */
function fieldIn(e: EvalExpr, out = new Set<string>()): Set<string> {
  if (e.kind === 'field') out.add(e.name)
  else if (e.kind === 'call') e.args.forEach((a) => fieldIn(a, out))
  else if (e.kind === 'and' || e.kind === 'or') e.items.forEach((a) => fieldIn(a, out))
  else if (e.kind === 'not') fieldIn(e.item, out)
  else if (e.kind === 'compare' || e.kind === 'add') {
    fieldIn(e.left, out)
    fieldIn(e.right, out)
  }
  return out
}

function compare(op: string, a: Value, b: Value): boolean | null {
  const x = scalar(a)
  const y = scalar(b)
  if (x === null || y === null) return null
  const nx = toNumber(x)
  const ny = toNumber(y)
  // Numbers compare numerically, strings lexicographically and case-sensitively
  // ("The <eval-expression> is case-sensitive": https://help.splunk.com/splunk-enterprise/spl-search-reference/9.2/search-commands/where).
  const [l, r]: [number | string, number | string] = nx !== null && ny !== null ? [nx, ny] : [text(x), text(y)]
  switch (op) {
    case '=':
    case '==':
      return l === r
    case '!=':
      return l !== r
    case '<':
      return l < r
    case '<=':
      return l <= r
    case '>':
      return l > r
    case '>=':
      return l >= r
  }
  throw new Unsupported(`the operator ${op}`)
}

/**
 * Eval functions, as the Search Reference describes them:
 * https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/evaluation-functions/multivalue-eval-functions
 * https://help.splunk.com/splunk-cloud-platform/spl-search-reference/9.3.2408/evaluation-functions/comparison-and-conditional-functions
 */
function call(
  name: string,
  args: readonly EvalExpr[],
  rec: SplRecord,
  ev: (e: EvalExpr, r: SplRecord) => Value,
): Value {
  const arg = (k: number): Value => {
    const a = args[k]
    if (!a) throw new Unsupported(`${name}() with ${args.length} arguments`)
    return ev(a, rec)
  }
  /** mvfilter/mvmap: run the expression once per value of its one field. */
  const perValue = (expr: EvalExpr, fn: (result: Value, value: string) => string | undefined): Value => {
    const fields = [...fieldIn(expr)]
    if (fields.length !== 1) throw new Unsupported(`${name}() over ${fields.length} fields`)
    const f = first(fields)
    const out: string[] = []
    for (const v of rec.get(f) ?? []) {
      const one = new Map(rec)
      one.set(f, [v])
      const kept = fn(ev(expr, one), v)
      if (kept !== undefined) out.push(kept)
    }
    return fromValues(out)
  }
  switch (name) {
    case 'isnull':
      return arg(0) === null
    case 'isnotnull':
      return arg(0) !== null
    case 'true':
      return true
    case 'false':
      return false
    case 'null':
      return null
    case 'if': {
      // "If <predicate> evaluates to TRUE returns <true_value>, otherwise <false_value>".
      return arg(0) === true ? arg(1) : arg(2)
    }
    case 'lower': {
      const s = scalar(arg(0))
      // ASCII only [our reading, as search's folding above: the page's examples are ASCII].
      return s === null ? null : splFold(text(s))
    }
    case 'trim': {
      // Without a second argument, spaces and tabs are removed from both sides.
      const s = scalar(arg(0))
      if (args.length > 1) throw new Unsupported('trim() with explicit characters')
      return s === null ? null : text(s).replace(/^[ \t]+|[ \t]+$/g, '')
    }
    case 'tonumber':
      return toNumber(arg(0))
    case 'match': {
      // match(<str>, <regex>): TRUE when the regex finds a match in the string (unanchored).
      const s = scalar(arg(0))
      return s === null ? null : regexOf(arg(1)).test(text(s))
    }
    case 'like': {
      // like(<str>, <pattern>): `%` any run, `_` one character, case-sensitive.
      const s = scalar(arg(0))
      const p = scalar(arg(1))
      if (s === null || typeof p !== 'string') return null
      return globMatches(globPattern(p, '%', '_'), text(s))
    }
    case 'cidrmatch': {
      // cidrmatch("<cidr>", <ip>): TRUE when the address is in the subnet.
      const c = scalar(arg(0))
      const ip = scalar(arg(1))
      if (typeof c !== 'string' || ip === null) return null
      return inSubnet(text(ip), c)
    }
    case 'mvfind': {
      // The index of the first value matching the regex, NULL when none does.
      const re = regexOf(arg(1))
      const i = valuesOf(arg(0)).findIndex((v) => re.test(text(v)))
      return i < 0 ? null : i
    }
    case 'mvfilter':
      // The values for which the predicate is TRUE; NULL when none is.
      return perValue(args[0] ?? { kind: 'number', value: 0 }, (r, v) => (r === true ? v : undefined))
    case 'mvmap':
      // Each value of the field passed through the expression.
      return perValue(args[1] ?? { kind: 'number', value: 0 }, (r) => {
        const s = scalar(r)
        return s === null ? undefined : text(s)
      })
    case 'mvdedup': {
      const vs = valuesOf(arg(0)).map(text)
      return fromValues([...new Set(vs)])
    }
    case 'mvappend':
      return fromValues(args.flatMap((_, k) => valuesOf(arg(k)).map(text)))
    case 'mvcount': {
      const vs = valuesOf(arg(0))
      return vs.length === 0 ? null : vs.length
    }
  }
  throw new Unsupported(`the eval function ${name}()`)
}

/** Boolean operators over TRUE/FALSE/NULL: NULL is unknown, as in SQL [our reading]. */
export function evalExpr(e: EvalExpr, rec: SplRecord): Value {
  switch (e.kind) {
    case 'and': {
      let unknown = false
      for (const x of e.items) {
        const v = evalExpr(x, rec)
        if (v === false) return false
        if (v !== true) unknown = true
      }
      return unknown ? null : true
    }
    case 'or': {
      let unknown = false
      for (const x of e.items) {
        const v = evalExpr(x, rec)
        if (v === true) return true
        if (v !== false) unknown = true
      }
      return unknown ? null : false
    }
    case 'not': {
      const v = evalExpr(e.item, rec)
      return v === true ? false : v === false ? true : null
    }
    case 'compare':
      return compare(e.op, evalExpr(e.left, rec), evalExpr(e.right, rec))
    case 'add': {
      const l = toNumber(evalExpr(e.left, rec))
      const r = toNumber(evalExpr(e.right, rec))
      return l === null || r === null ? null : l + r
    }
    case 'call':
      return call(e.name, e.args, rec, evalExpr)
    case 'field':
      return fromValues(rec.get(e.name) ?? [])
    case 'string':
      return e.value
    case 'number':
      return e.value
  }
}

// --- pipeline ----------------------------------------------------------------------------------

/**
 * One filtering command on one event (search, where, regex): does the event pass? The correlation
 * verifier's per-event filter; a command that changes the event (rex, eval) is not one.
 */
export function runCommand(c: Command, rec: SplRecord): boolean {
  if (c.kind === 'rex' || c.kind === 'eval') throw new Unsupported(`${c.kind} as a filter`)
  return applyCommand(c, rec) !== undefined
}

/** Run one command on one event: the event as the next command sees it, or undefined when dropped. */
function applyCommand(c: Command, rec: SplRecord): SplRecord | undefined {
  switch (c.kind) {
    case 'search':
      return c.expr === undefined || evalSearch(c.expr, rec) ? rec : undefined
    case 'where':
      // "The where command returns only the results for which the eval expression returns true."
      // https://help.splunk.com/splunk-enterprise/spl-search-reference/9.2/search-commands/where
      return evalExpr(c.expr, rec) === true ? rec : undefined
    case 'regex': {
      // `regex f="re"` keeps events whose f matches (unanchored PCRE); `f!=` keeps those that do
      // not, an event without f among them (it has no value that matches).
      // https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/regex
      const re = regexOf(c.pattern)
      const hit = fieldValues(rec, c.field, 'regex').some((v) => re.test(v))
      return hit !== c.negate ? rec : undefined
    }
    case 'rex':
      return rex(c.field, c.pattern, rec)
    case 'datamodel':
      throw new Unsupported('datamodel after the first command (it generates events)')
    case 'eval': {
      // "multiple eval expressions left-to-right … reference previously evaluated fields in
      // subsequent expressions"; "The result of an eval expression cannot be a Boolean"; a NULL
      // result leaves the field without a value [our reading].
      // https://help.splunk.com/splunk-enterprise/spl-search-reference/9.4/search-commands/eval
      let out = rec
      for (const a of c.assignments) {
        const v = evalExpr(a.expr, out)
        if (typeof v === 'boolean') throw new Unsupported(`eval assigning a Boolean to ${a.field}`)
        const next = new Map(out)
        const values = valuesOf(v).map(text)
        if (values.length === 0) next.delete(a.field)
        else next.set(a.field, values)
        out = next
      }
      return out
    }
  }
}

/** A field's values; `_raw` (the raw event text) is not modelled, so a command on it cannot be run. */
function fieldValues(rec: SplRecord, field: string, command: string): readonly string[] {
  if (field === '_raw') throw new Unsupported(`${command} on _raw (the raw event text)`)
  return rec.get(field) ?? []
}

/**
 * `rex field=f "re"`: "matches the value of the specified field against the unanchored regular
 * expression and extracts the named groups into fields of the corresponding names"; one match
 * (max_match defaults to 1). https://help.splunk.com/splunk-enterprise/spl-search-reference/9.1/search-commands/rex
 * When the regex does not match, or f is missing, nothing is extracted (a field of a group's name
 * keeps what it had); a group that takes no part in the match sets nothing [our reading]. A
 * multivalue f is not run: which values rex reads is not documented.
 */
function rex(field: string, pattern: string, rec: SplRecord): SplRecord {
  const values = fieldValues(rec, field, 'rex')
  if (values.length > 1) throw new Unsupported(`rex on the multivalue field ${field}`)
  const r = pcreToRegExp(pattern)
  if ('unsupported' in r) throw new Unsupported(`the PCRE construct ${r.unsupported} in ${JSON.stringify(pattern)}`)
  if (r.names.length === 0) throw new Unsupported(`rex without a named group in ${JSON.stringify(pattern)}`)
  const groups = values.length === 1 ? r.groups(first(values)) : undefined
  if (!groups) return rec
  const out = new Map(rec)
  for (const [name, value] of Object.entries(groups)) if (value !== undefined) out.set(name, [value])
  return out
}

/** How deep macros may nest in one another before the expansion is taken to loop. */
const MACRO_DEPTH = 20

/**
 * The query with every search macro replaced by its definition, as Splunk does before it parses a
 * search: "place a back tick character (`) before and after the macro name … You can reference a
 * search macro within other search macros using this same syntax … Macros inside of quoted values
 * are not expanded" (https://help.splunk.com/en/splunk-enterprise/manage-knowledge-objects/knowledge-management-manual/10.0/search-macros).
 * The replacement is textual: a definition `a OR b` written before `c` reads `a OR b c`
 * (https://help.splunk.com/en/splunk-enterprise/manage-knowledge-objects/knowledge-management-manual/9.0/tags/use-macros-with-event-types-and-tags),
 * which is why the shipped definitions with an OR are parenthesised. The definitions are the ones
 * a user deploys (target.yml's `macros` with the pipeline's over them); a macro with arguments, or
 * one that is not defined, is reported.
 */
export function expandMacros(text: string, macros: Readonly<Record<string, string>>, depth = 0): string {
  if (!text.includes('`')) return text
  if (depth > MACRO_DEPTH) throw new Unsupported(`macros nested more than ${MACRO_DEPTH} deep`)
  let out = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = itemAt(text, i)
    if (quoted) {
      out += c
      if (c === '\\' && i + 1 < text.length) out += itemAt(text, ++i)
      else if (c === '"') quoted = false
      continue
    }
    // A comment, ``` … ```, is no macro call (https://help.splunk.com/splunk-enterprise/search/search-manual/9.4/write-better-searches/add-comments-to-searches).
    if (text.startsWith('```', i)) {
      const close = text.indexOf('```', i + 3)
      const stop = close < 0 ? text.length : close + 3
      out += text.slice(i, stop)
      i = stop - 1
      continue
    }
    if (c === '"') quoted = true
    if (c !== '`') {
      out += c
      continue
    }
    const end = text.indexOf('`', i + 1)
    const name = end < 0 ? '' : text.slice(i + 1, end)
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      throw new Unsupported(`the macro call ${JSON.stringify(text.slice(i, end < 0 ? undefined : end + 1))}`)
    if (!Object.prototype.hasOwnProperty.call(macros, name))
      throw new Unsupported(`the macro \`${name}\`: it has no definition (macros: in target.yml or the pipeline)`)
    out += expandMacros(entryOf(macros, name), macros, depth + 1)
    i = end
  }
  return out
}

/** Every field a query reads (search terms, eval fields, regex and rex), to know which records can judge it. */
function fieldsRead(commands: readonly Command[]): Set<string> {
  const out = new Set<string>()
  const search = (e: SearchExpr): void => {
    if (e.kind === 'and' || e.kind === 'or') e.items.forEach(search)
    else if (e.kind === 'not') search(e.item)
    else if (e.kind === 'compare' || e.kind === 'in') out.add(e.field)
  }
  for (const c of commands) {
    if (c.kind === 'search' && c.expr) search(c.expr)
    else if (c.kind === 'where') fieldIn(c.expr, out)
    else if (c.kind === 'regex' || c.kind === 'rex') out.add(c.field)
    else if (c.kind === 'eval') c.assignments.forEach((a) => fieldIn(a.expr, out))
  }
  return out
}

/**
 * `| datamodel <model> <dataset> search | …`: the events the dataset holds, each with the dataset's
 * fields (src/verify/spl-events.ts), then the rest of the pipeline. A query that reads a dataset
 * field the model does not hold is reported, not guessed.
 */
function runDatamodel(
  model: string,
  dataset: string,
  rest: readonly Command[],
  events: readonly JsonEvent[],
): Verified {
  const name = `${model}.${dataset}`
  const known = cimFields(name)
  if (!known) throw new Unsupported(`the data model dataset ${name}`)
  const unknown = [...fieldsRead(rest)].find((f) => !known.has(f))
  if (unknown !== undefined) throw new Unsupported(`the field ${unknown} of ${name} (not in the verifier's model)`)
  const leftOut: LeftOut[] = []
  const matches = events.map((event, index) => {
    let rec = cimRecord(event, name)
    if (rec === undefined) leftOut.push({ index, reason: `not in the ${name} data model` })
    for (const c of rest) {
      if (rec === undefined) break
      rec = applyCommand(c, rec)
    }
    return rec !== undefined
  })
  return { matches, leftOut, diagnostics: [] }
}

function diag(code: DiagnosticCode, message: string): Diagnostic {
  return { code, severity: 'error', message, target: 'spl' }
}

export const verifier: Verifier = {
  id: 'spl',
  async verify(query: string, events: readonly JsonEvent[], options: TargetOptions = {}): Promise<Verified> {
    const model = splModel(options.pipeline)
    if (typeof model === 'string') return { diagnostics: [diag('config/pipeline', model)] }
    let expanded: string
    try {
      expanded = expandMacros(query, model.macros)
    } catch (e) {
      if (e instanceof Unsupported)
        return { diagnostics: [diag('verify/unsupported', `spl: the verifier cannot run ${e.message}`)] }
      throw e
    }
    const parsed = parseSpl(expanded)
    if (!parsed.query) {
      const e = first(parsed.errors)
      return {
        diagnostics: [
          diag(
            'verify/parse',
            `spl: the query does not parse at offset ${e.offset}: ${e.message.split('\n').join(' ')}`,
          ),
        ],
      }
    }
    const commands = parsed.query.commands
    try {
      // An event that lands nowhere in Splunk is in no index: no search returns it.
      // Nothing before the first pipe: no search retrieves events for the commands after it
      // (pySigma-backend-splunk pull request #53 reports such a query returns nothing).
      const head = commands[0]
      const generating = commands[1]?.kind === 'datamodel' ? commands[1] : undefined
      if (head?.kind === 'search' && head.expr === undefined && generating)
        return runDatamodel(generating.model, generating.dataset, commands.slice(2), events)
      if (head?.kind === 'search' && head.expr === undefined && commands.length > 1)
        throw new Unsupported(
          'a query that starts with a pipe: nothing retrieves its events (put the index or source terms before the first |)',
        )
      const leftOut: LeftOut[] = []
      const unrepresentable: number[] = []
      const reads = fieldsRead(commands)
      const matches = events.map((event, index) => {
        const placed = splPlacement(event, model)
        if (placed === undefined) leftOut.push({ index, reason: 'lands in no Splunk source' })
        else if ('unrepresentable' in placed) {
          unrepresentable.push(index)
          leftOut.push({ index, reason: placed.unrepresentable })
          return false
        }
        // A record that holds only some fields (a Security 4688) cannot answer a query that reads
        // another one: that field's value is not known there, which is not the same as missing.
        const known = knownIn(event)
        const unknown = known && [...reads].find((f) => !known(f))
        if (unknown !== undefined) {
          unrepresentable.push(index)
          leftOut.push({ index, reason: `the query reads ${unknown}, which a Security 4688 record does not hold` })
          return false
        }
        let rec: SplRecord | undefined = placed?.record
        for (const c of commands) {
          if (rec === undefined) break
          rec = applyCommand(c, rec)
        }
        return rec !== undefined
      })
      return { matches, leftOut, ...(unrepresentable.length ? { unrepresentable } : {}), diagnostics: [] }
    } catch (e) {
      if (e instanceof Unsupported)
        return { diagnostics: [diag('verify/unsupported', `spl: the verifier cannot run ${e.message}`)] }
      if (e instanceof RegexBudgetError) return { diagnostics: [diag('limit/regex-budget', `spl: ${e.message}`)] }
      throw e
    }
  },
}
