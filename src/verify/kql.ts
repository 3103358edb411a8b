/**
 * The kql verifier: parses the text with grammars/kql.ts and evaluates it on each event, placed as
 * a row of the table its origin lands in (src/verify/kql-events.ts), with KQL's documented
 * semantics. A row of another table than the query's is not read by the query. It imports nothing
 * from the backend.
 *
 * Truth values are three-valued (true/false/null): `where` keeps a row only when its predicate is
 * true (https://learn.microsoft.com/kusto/query/scalar-data-types/null-values, "null values and
 * the where operator"); and/or/not follow Kleene's tables, which the same page's example
 * `val > 3 or isnull(val)` (true for a null val) agrees with.
 */
import { RE2JS } from 're2js'
import { parseKql, type KExpr, type KQuery, type KTerm } from '../../grammars/kql.js'
import type { Diagnostic, DiagnosticCode } from '../diagnostics.js'
import type { JsonEvent } from '../rule/rule.js'
import type { TargetOptions } from '../target-ids.js'
import { kqlModels, placeEvent, type KqlRow as KqlRecord } from './kql-events.js'
import type { LeftOut, Verified, Verifier } from './types.js'
import { isSecurity4688, place, SECURITY_4688 } from './winlog.js'
import { originOf } from '../origin.js'
import { entryOf, errorMessage, first, itemAt } from '../guards.js'

/**
 * A value of type dynamic (https://learn.microsoft.com/kusto/query/scalar-data-types/dynamic): a
 * JSON value. Only key access and tostring() read it here.
 */
class Dynamic {
  constructor(readonly json: unknown) {}
}
type Value = string | number | boolean | null | Dynamic
type Truth = boolean | null

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)

/** A verifier error: the text uses something outside the documented subset, or mixes types. */
class VerifyError extends Error {}

/**
 * ASCII-only case folding: "Case-insensitive operators are currently supported only for ASCII-text.
 * For non-ASCII comparison, use the tolower() function." (Microsoft's `=~` page, mirrored at
 * https://www.ibm.com/docs/en/uax?topic=functions-equals).
 */
const foldAscii = (s: string): string => s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32))

/** String operators, https://learn.microsoft.com/kusto/query/datatypes-string-operators. */
const STRING_OPS: Record<string, (a: string, b: string) => boolean> = {
  '==': (a, b) => a === b,
  '!=': (a, b) => a !== b,
  '=~': (a, b) => foldAscii(a) === foldAscii(b),
  '!~': (a, b) => foldAscii(a) !== foldAscii(b),
  contains: (a, b) => foldAscii(a).includes(foldAscii(b)),
  '!contains': (a, b) => !foldAscii(a).includes(foldAscii(b)),
  contains_cs: (a, b) => a.includes(b),
  '!contains_cs': (a, b) => !a.includes(b),
  startswith: (a, b) => foldAscii(a).startsWith(foldAscii(b)),
  '!startswith': (a, b) => !foldAscii(a).startsWith(foldAscii(b)),
  startswith_cs: (a, b) => a.startsWith(b),
  '!startswith_cs': (a, b) => !a.startsWith(b),
  endswith: (a, b) => foldAscii(a).endsWith(foldAscii(b)),
  '!endswith': (a, b) => !foldAscii(a).endsWith(foldAscii(b)),
  endswith_cs: (a, b) => a.endsWith(b),
  '!endswith_cs': (a, b) => !a.endsWith(b),
}

/**
 * Numeric comparison with nulls: `==` of null and non-null is false, `!=` true, two nulls null; the
 * ordering operators with a null operand are null (null-values page, table of `val > 3`).
 */
function compareNumbers(op: string, a: number | null, b: number | null): Truth {
  if (a === null || b === null) {
    if (op === '==') return a === null && b === null ? null : false
    if (op === '!=') return a === null && b === null ? null : true
    return null
  }
  switch (op) {
    case '==':
      return a === b
    case '!=':
      return a !== b
    case '<':
      return a < b
    case '<=':
      return a <= b
    case '>':
      return a > b
    case '>=':
      return a >= b
  }
  throw new VerifyError(`the operator ${op} does not apply to numbers`)
}

const regexCache = new Map<string, RE2JS>()
function re2(pattern: string): RE2JS {
  let r = regexCache.get(pattern)
  if (!r) {
    try {
      r = RE2JS.compile(pattern)
    } catch (e) {
      throw new VerifyError(`matches regex: RE2 rejects ${JSON.stringify(pattern)}: ${errorMessage(e)}`)
    }
    regexCache.set(pattern, r)
  }
  return r
}

/**
 * ipv4_is_in_range(ip, range): null when either argument does not parse
 * (https://learn.microsoft.com/kusto/query/ipv4-is-in-range-function). Here an address is a dotted
 * quad of decimal octets 0–255; the range is an address with an optional /prefix (0–32).
 */
function ipv4InRange(ip: Value, range: Value): Truth {
  if (typeof ip !== 'string' || typeof range !== 'string') return null
  const a = ipv4(ip)
  const slash = range.indexOf('/')
  const net = ipv4(slash < 0 ? range : range.slice(0, slash))
  const prefix = slash < 0 ? 32 : /^\d{1,2}$/.test(range.slice(slash + 1)) ? Number(range.slice(slash + 1)) : NaN
  if (a === undefined || net === undefined || !(prefix >= 0 && prefix <= 32)) return null
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0
  return (a & mask) >>> 0 === (net & mask) >>> 0
}

function ipv4(text: string): number | undefined {
  const parts = text.split('.')
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined
  return parts.reduce((acc, p) => ((acc << 8) | Number(p)) >>> 0, 0)
}

/**
 * ipv6_is_in_range(ip, range): null when either does not convert
 * (https://learn.microsoft.com/kusto/query/ipv6-is-in-range-function). An address is RFC 4291
 * text: eight hex groups, one `::`, an optional trailing dotted quad; the prefix is 0–128.
 */
function ipv6InRange(ip: Value, range: Value): Truth {
  if (typeof ip !== 'string' || typeof range !== 'string') return null
  const a = ipv6(ip)
  const slash = range.indexOf('/')
  const net = ipv6(slash < 0 ? range : range.slice(0, slash))
  const prefix = slash < 0 ? 128 : /^\d{1,3}$/.test(range.slice(slash + 1)) ? Number(range.slice(slash + 1)) : NaN
  if (a === undefined || net === undefined || !(prefix >= 0 && prefix <= 128)) return null
  const shift = BigInt(128 - prefix)
  return a >> shift === net >> shift
}

function ipv6(text: string): bigint | undefined {
  let groups: number[] = []
  let body = text
  const tail = /(?:^|:)(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text)
  if (tail) {
    const v4 = ipv4(itemAt(tail, 1))
    if (v4 === undefined) return undefined
    body =
      text.slice(0, text.length - itemAt(tail, 1).length) + `${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`
  }
  const halves = body.split('::')
  if (halves.length > 2) return undefined
  const parse = (s: string): number[] | undefined => {
    if (s === '') return []
    const parts = s.split(':')
    return parts.every((p) => /^[0-9A-Fa-f]{1,4}$/.test(p)) ? parts.map((p) => parseInt(p, 16)) : undefined
  }
  const head = parse(first(halves))
  const rest = halves.length === 2 ? parse(itemAt(halves, 1)) : []
  if (!head || !rest) return undefined
  if (halves.length === 1) {
    if (head.length !== 8) return undefined
    groups = head
  } else {
    if (head.length + rest.length > 7) return undefined
    groups = [...head, ...Array<number>(8 - head.length - rest.length).fill(0), ...rest]
  }
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n)
}

function evalTerm(t: KTerm, row: KqlRecord): Value {
  switch (t.k) {
    case 'str':
      return t.value
    case 'num':
      return t.value
    case 'bool':
      return t.value
    case 'col': {
      if (!Object.prototype.hasOwnProperty.call(row, t.name)) throw new VerifyError(`unknown column ${t.name}`)
      const v = entryOf(row, t.name)
      return isObject(v) ? new Dynamic(v) : v
    }
    case 'key': {
      // An accessor on a dynamic value: a missing key, or a key of a non-object, is null
      // (https://learn.microsoft.com/kusto/query/scalar-data-types/dynamic, "Accessing a
      // non-existent property … returns null").
      const base = evalTerm(t.base, row)
      if (!(base instanceof Dynamic)) throw new VerifyError(`a key of a ${base === null ? 'null' : typeof base} value`)
      const inner =
        isObject(base.json) && Object.prototype.hasOwnProperty.call(base.json, t.key) ? base.json[t.key] : null
      return new Dynamic(inner)
    }
    case 'call': {
      const args = t.args.map((a) => evalTerm(a, row))
      const arity = (n: number) => {
        if (args.length !== n) throw new VerifyError(`${t.fn}() takes ${n} argument(s)`)
      }
      switch (t.fn) {
        // https://learn.microsoft.com/kusto/query/isempty-function: true for "" and for null.
        case 'isempty':
          arity(1)
          return args[0] === '' || args[0] === null
        case 'isnotempty':
          arity(1)
          return !(args[0] === '' || args[0] === null)
        // https://learn.microsoft.com/kusto/query/isnull-function
        // A dynamic null (a missing key) is null too (https://learn.microsoft.com/kusto/query/scalar-data-types/dynamic).
        case 'isnull':
          arity(1)
          return isNullValue(first(args))
        case 'isnotnull':
          arity(1)
          return !isNullValue(first(args))
        // https://learn.microsoft.com/kusto/query/tostring-function: null → "". A dynamic string
        // is its text, a dynamic number or boolean its JSON text; an array or object's JSON
        // rendering is not modelled.
        case 'tostring': {
          arity(1)
          const a = first(args)
          if (a instanceof Dynamic) {
            const j = a.json
            if (j === null || j === undefined) return ''
            if (typeof j === 'string') return j
            if (typeof j === 'number' || typeof j === 'boolean') return JSON.stringify(j)
            throw new VerifyError('tostring() of a dynamic array or object is outside the verified subset')
          }
          return a === null ? '' : String(a)
        }
        // https://learn.microsoft.com/kusto/query/parse-json-function: JSON text → its dynamic value;
        // text that is not JSON stays a string value.
        case 'parse_json': {
          arity(1)
          const a = first(args)
          if (typeof a !== 'string') throw new VerifyError('parse_json() takes a string here')
          if (a === '') return new Dynamic(null)
          try {
            return new Dynamic(JSON.parse(a))
          } catch {
            return new Dynamic(a)
          }
        }
        case 'ipv4_is_in_range':
          arity(2)
          return ipv4InRange(first(args), itemAt(args, 1))
        case 'ipv6_is_in_range':
          arity(2)
          return ipv6InRange(first(args), itemAt(args, 1))
      }
      throw new VerifyError(`the function ${t.fn}() is outside the verified subset`)
    }
  }
}

const isNullValue = (v: Value): boolean =>
  v === null || (v instanceof Dynamic && (v.json === null || v.json === undefined))

function truth(v: Value): Truth {
  if (v instanceof Dynamic) throw new VerifyError('a dynamic value is not a predicate')
  if (v === null || typeof v === 'boolean') return v
  throw new VerifyError(`a ${typeof v} is not a predicate`)
}

function evalExpr(e: KExpr, row: KqlRecord): Truth {
  switch (e.k) {
    case 'and': {
      let sawNull = false
      for (const i of e.items) {
        const v = evalExpr(i, row)
        if (v === false) return false
        if (v === null) sawNull = true
      }
      return sawNull ? null : true
    }
    case 'or': {
      let sawNull = false
      for (const i of e.items) {
        const v = evalExpr(i, row)
        if (v === true) return true
        if (v === null) sawNull = true
      }
      return sawNull ? null : false
    }
    case 'not': {
      const v = evalExpr(e.item, row)
      return v === null ? null : !v
    }
    case 'term':
      return truth(evalTerm(e.term, row))
    case 'regex': {
      const s = evalTerm(e.left, row)
      const p = evalTerm(e.pattern, row)
      if (typeof s !== 'string' || typeof p !== 'string')
        throw new VerifyError('matches regex takes a string on each side')
      // RE2 search, unanchored (https://learn.microsoft.com/kusto/query/matches-regex-operator).
      return re2(p).matcher(s).find()
    }
    case 'in': {
      const left = evalTerm(e.left, row)
      const list = e.list.map((t) => evalTerm(t, row))
      const neg = e.op.startsWith('!')
      const ci = e.op.endsWith('~')
      if (typeof left === 'string') {
        if (!list.every((v): v is string => typeof v === 'string'))
          throw new VerifyError(`${e.op} mixes a string with non-strings`)
        const eq = ci ? entryOf(STRING_OPS, '=~') : entryOf(STRING_OPS, '==')
        const hit = list.some((v) => eq(left, v))
        return neg ? !hit : hit
      }
      // A number among numbers: `in` is `==` with each (https://learn.microsoft.com/kusto/query/in-operator),
      // and `==` with a null operand is false (compareNumbers).
      if ((typeof left === 'number' || left === null) && !ci && list.every((v) => typeof v === 'number')) {
        const hit = left !== null && list.includes(left)
        return neg ? !hit : hit
      }
      throw new VerifyError(`${e.op} is verified on strings, and on numbers without ~, only`)
    }
    case 'binary': {
      const a = evalTerm(e.left, row)
      const b = evalTerm(e.right, row)
      if (typeof a === 'string' && typeof b === 'string') {
        const op = STRING_OPS[e.op]
        if (!op) throw new VerifyError(`the operator ${e.op} is not verified on strings`)
        return op(a, b)
      }
      if ((typeof a === 'number' || a === null) && (typeof b === 'number' || b === null)) {
        return compareNumbers(e.op, a, b)
      }
      // A bool column against a bool literal: `==`/`!=` with the same null rules as numbers
      // (https://learn.microsoft.com/kusto/query/scalar-data-types/null-values).
      if ((typeof a === 'boolean' || a === null) && (typeof b === 'boolean' || b === null)) {
        if (e.op !== '==' && e.op !== '!=') throw new VerifyError(`the operator ${e.op} is not verified on bools`)
        if (a === null || b === null) return e.op === '==' ? (a === b ? null : false) : a === b ? null : true
        return e.op === '==' ? a === b : a !== b
      }
      // Kusto is strongly typed: a string column against a number literal is an error, not a match.
      throw new VerifyError(
        `the operator ${e.op} compares a ${a === null ? 'null' : typeof a} with a ${b === null ? 'null' : typeof b}`,
      )
    }
  }
}

export const verifier: Verifier = {
  id: 'kql',
  async verify(query: string, events: readonly JsonEvent[], options?: TargetOptions): Promise<Verified> {
    const diag = (code: DiagnosticCode, message: string): Diagnostic => ({
      code,
      severity: 'error',
      message,
      target: 'kql',
    })
    const parsed = parseKql(query)
    if (!parsed.query) {
      return {
        diagnostics: parsed.errors.map((e) =>
          diag('verify/parse', `kql: cannot parse the query at offset ${e.offset}: ${e.message}`),
        ),
      }
    }
    const models = kqlModels(options)
    if (typeof models === 'string') return { diagnostics: [diag('config/pipeline', models)] }
    const table = parsed.query.table
    const model = models.find((m) => m.tables[table])
    if (!model)
      return {
        diagnostics: [
          diag('verify/table', `kql: the ${models.map((m) => m.variant).join(', ')} schema has no table ${table}`),
        ],
      }
    const matches: boolean[] = []
    const unrepresentable: number[] = []
    const leftOut: LeftOut[] = []
    const diagnostics: Diagnostic[] = []
    const reads = columnsRead(parsed.query)
    // A Sysmon field a Sentinel query reads (a column, or a key of EventData) whose value a Security
    // 4688 record does not hold: such a record cannot be judged by the query (SECURITY_4688.unknown).
    const unknownIn4688 =
      model.variant === 'sentinel'
        ? [...reads, ...keysRead(parsed.query)].find((n) => SECURITY_4688.unknown.has(n))
        : undefined
    for (const [i, event] of events.entries()) {
      if (unknownIn4688 !== undefined && isSecurity4688(place(originOf(event))?.record)) {
        unrepresentable.push(i)
        leftOut.push({
          index: i,
          reason: `the query reads ${unknownIn4688}, which a Security 4688 record does not hold`,
        })
        matches.push(false)
        continue
      }
      const placed = placeEvent(model, event, reads, table)
      // An event that lands in no table, or in another table, is not a row the query reads.
      if (!placed || placed.table !== table) {
        leftOut.push({
          index: i,
          reason: placed
            ? `lands in ${placed.table}, the query reads ${table}`
            : `lands in no table of the ${model.variant} schema`,
        })
        matches.push(false)
        continue
      }
      if (!placed.row) {
        // No row of the table looks like this event: its answer proves nothing either way.
        unrepresentable.push(i)
        leftOut.push({ index: i, reason: `no ${table} row holds it: ${placed.unrepresentable}` })
        matches.push(false)
        diagnostics.push({
          ...diag(
            'verify/unrepresentable-event',
            `kql: event ${i} cannot be a row of ${table}: ${placed.unrepresentable}`,
          ),
          severity: 'warning',
        })
        continue
      }
      try {
        matches.push(keepsRow(parsed.query, placed.row))
      } catch (e) {
        if (e instanceof VerifyError) return { diagnostics: [diag('verify/parse', `kql: ${e.message}`)] }
        throw e
      }
    }
    return { matches, unrepresentable, leftOut, diagnostics }
  },
}

/** Every term a query's stages read, each with the terms inside it (call arguments, a key's base). */
function eachTerm(query: KQuery, visit: (t: KTerm) => void): void {
  const term = (t: KTerm): void => {
    visit(t)
    if (t.k === 'call') t.args.forEach(term)
    else if (t.k === 'key') term(t.base)
  }
  const expr = (e: KExpr): void => {
    switch (e.k) {
      case 'and':
      case 'or':
        return e.items.forEach(expr)
      case 'not':
        return expr(e.item)
      case 'binary':
        term(e.left)
        return term(e.right)
      case 'in':
        term(e.left)
        return e.list.forEach(term)
      case 'regex':
        term(e.left)
        return term(e.pattern)
      case 'term':
        return term(e.term)
    }
  }
  for (const stage of query.stages)
    if (stage.k === 'where') expr(stage.expr)
    else for (const a of stage.assigns) term(a.term)
}

/** The columns a query's filters name: only they are written into a row (src/verify/kql-events.ts). */
export function columnsRead(query: KQuery): Set<string> {
  const out = new Set<string>()
  eachTerm(query, (t) => {
    if (t.k === 'col') out.add(t.name)
  })
  return out
}

/** The keys a query reads of dynamic columns (`EventData.Image`, `EventData['Image']`). */
function keysRead(query: KQuery): Set<string> {
  const out = new Set<string>()
  eachTerm(query, (t) => {
    if (t.k === 'key') out.add(t.key)
  })
  return out
}

/**
 * Whether every `where` of a parsed query keeps the row (true, not null), its stages run in order:
 * the correlation verifier's member test too. `extend` adds a column computed from the row
 * (https://learn.microsoft.com/kusto/query/extend-operator); one that would replace a column of
 * the row is outside the verified subset, and so is a computed value that is not text, a number
 * or null.
 */
export function keepsRow(query: KQuery, row: KqlRecord): boolean {
  let current: KqlRecord = row
  for (const stage of query.stages) {
    if (stage.k === 'where') {
      if (evalExpr(stage.expr, current) !== true) return false
      continue
    }
    const next: Record<string, KqlRecord[string]> = { ...current }
    for (const a of stage.assigns) {
      if (Object.prototype.hasOwnProperty.call(next, a.name))
        throw new VerifyError(`extend ${a.name} replaces a column, outside the verified subset`)
      const v = evalTerm(a.term, next)
      if (v !== null && typeof v !== 'string' && typeof v !== 'number')
        throw new VerifyError(
          `extend ${a.name} computes a value other than text or a number, outside the verified subset`,
        )
      next[a.name] = v
    }
    current = next
  }
  return true
}
