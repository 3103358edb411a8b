/**
 * The eql verifier: parses EQL text (grammars/eql.ts) and evaluates it on events placed as the ECS
 * records their origin becomes (src/verify/eql-events.ts; nothing is shared with the backend), following
 * Elasticsearch's documented EQL semantics:
 * https://www.elastic.co/guide/en/elasticsearch/reference/current/eql-syntax.html (E1) and
 * https://www.elastic.co/guide/en/elasticsearch/reference/current/eql-function-ref.html (E2).
 *
 * Evaluation is three-valued: a comparison on a missing or null field is null (E2: functions
 * "return null" on a null argument), `not null` is null, and/or follow Kleene's tables, and an
 * event matches only when the condition is true. Array fields match when any value does (the
 * term-level queries EQL compiles to match any value of a multi-valued field; E1 notes that array
 * values are "not supported" and may be inconsistent, see docs/targets/eql.md).
 */
import { parseEql, type EqlQuery, type Expr, type FieldRef, type Literal } from '../../grammars/eql.js'
import type { Diagnostic, DiagnosticCode } from '../diagnostics.js'
import type { JsonEvent } from '../rule/rule.js'
import type { TargetOptions } from '../target-ids.js'
import {
  UNSEARCHABLE,
  cidrRange,
  eqlModel,
  eqlRecord,
  inCidr,
  ipAddress as address,
  isStringType,
  typeOf,
  type FieldType,
  type IndexedValue,
  type MappedEvent,
  type Schema,
} from './eql-events.js'
import type { LeftOut, Verified, Verifier } from './types.js'
import { LuceneSyntaxError, luceneMatches, wildcardMatches } from './eql-match.js'
import { first } from '../guards.js'

type Truth = boolean | null

/** A query the evaluator cannot give a meaning to (wrong operand types, unknown field or function). */
class QueryError extends Error {}

const not = (a: Truth): Truth => (a === null ? null : !a)

function and(items: readonly Truth[]): Truth {
  if (items.some((x) => x === false)) return false
  return items.some((x) => x === null) ? null : true
}

function or(items: readonly Truth[]): Truth {
  if (items.some((x) => x === true)) return true
  return items.some((x) => x === null) ? null : false
}

/** `any` over a field's values: true if one matches, false if none does, null if it has none. */
function anyValue(values: readonly IndexedValue[], test: (v: IndexedValue) => boolean): Truth {
  if (values.length === 0) return null
  return values.some(test)
}

const asciiLower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase())

function stringArg(l: Literal, what: string): string {
  if (l.type !== 'string') throw new QueryError(`${what} needs a string, not ${l.type}`)
  return l.value
}

/** The field's type; undefined for an optional field no index maps (E1: then its value is null). */
function fieldType(schema: Schema, field: FieldRef): FieldType | undefined {
  const t = typeOf(schema, field.name)
  // E1: a field that is not mapped is an error unless written `?field`.
  if (t === undefined) {
    if (field.optional) return undefined
    throw new QueryError(`unknown field ${field.name}`)
  }
  if (t === 'text') throw new QueryError(`text field ${field.name} (E1: "Text fields are not supported")`)
  // "Cannot use field [...] with unsupported type [flattened]": https://github.com/elastic/elasticsearch/issues/101985
  if (t === 'flattened') throw new QueryError(`flattened field ${field.name} (EQL rejects the flattened type)`)
  if (t === 'boolean')
    throw new QueryError(`boolean field ${field.name} (this reader models keyword, long and ip fields)`)
  return t
}

function compare(e: Extract<Expr, { kind: 'compare' }>, rec: MappedEvent, schema: Schema): Truth {
  const mapped = fieldType(schema, e.field)
  const values = mapped === undefined ? [] : (rec.values.get(e.field.name) ?? [])
  const only = e.values.length === 1 ? first(e.values) : undefined
  if (only?.type === 'null' && (e.op === '==' || e.op === '!=')) {
    // E1 "Check if a field exists": `== null` holds when the field has no value.
    const missing = values.length === 0
    return e.op === '==' ? missing : !missing
  }
  // An optional field that no index maps is null: every comparison on it is null.
  if (mapped === undefined) return null
  const type = mapped
  const fieldName = e.field.name
  const strings = (op: string): string[] => {
    // E1: `:` "Can only be used to compare strings"; like/regex/in likewise take strings.
    if (!isStringType(type)) throw new QueryError(`${op} on the ${type} field ${fieldName}`)
    return e.values.map((l) => stringArg(l, op))
  }
  const text = (v: IndexedValue): v is string => typeof v === 'string'
  switch (e.op) {
    case ':':
    case 'like~':
    case 'like': {
      const patterns = strings(e.op)
      const insensitive = e.op !== 'like'
      return anyValue(values, (v) => text(v) && patterns.some((p) => wildcardMatches(p, v, insensitive)))
    }
    case 'regex':
    case 'regex~': {
      const patterns = strings(e.op)
      return anyValue(values, (v) => text(v) && patterns.some((p) => luceneMatches(p, v, e.op === 'regex~')))
    }
    case 'in':
    case 'in~': {
      const wanted = strings(e.op)
      const norm = e.op === 'in~' ? asciiLower : (s: string) => s
      const set = new Set(wanted.map(norm))
      return anyValue(values, (v) => text(v) && set.has(norm(v)))
    }
    case '==':
    case '!=': {
      if (!only) throw new QueryError(`${e.op} with a list`)
      const eq = anyValue(values, (v) => equals(type, v, only, fieldName))
      return e.op === '==' ? eq : not(eq)
    }
    case '<':
    case '<=':
    case '>':
    case '>=': {
      if (type !== 'long' || only?.type !== 'number') throw new QueryError(`${e.op} on the ${type} field ${fieldName}`)
      const n = only.value
      const test = {
        '<': (x: number) => x < n,
        '<=': (x: number) => x <= n,
        '>': (x: number) => x > n,
        '>=': (x: number) => x >= n,
      }[e.op]
      return anyValue(values, (v) => typeof v === 'number' && test(v))
    }
  }
}

/** `==` by field type: strings exactly (case-sensitive, no wildcards; E1), numbers numerically, ip fields as addresses. */
function equals(type: FieldType, v: IndexedValue, l: Literal, field: string): boolean {
  if (v === UNSEARCHABLE) return false
  if (isStringType(type)) {
    if (l.type !== 'string') throw new QueryError(`== ${l.type} on the string field ${field}`)
    return v === l.value
  }
  if (type === 'long') {
    if (l.type !== 'number') throw new QueryError(`== ${l.type} on the number field ${field}`)
    return v === l.value
  }
  if (l.type !== 'string') throw new QueryError(`== ${l.type} on the ip field ${field}`)
  const a = address(String(v))
  const b = address(l.value)
  if (!b) throw new QueryError(`${JSON.stringify(l.value)} is not an ip address`)
  return !!a && a.family === b.family && a.value === b.value
}

function call(e: Extract<Expr, { kind: 'call' }>, rec: MappedEvent, schema: Schema): Truth {
  if (e.name !== 'cidrMatch') throw new QueryError(`unknown function ${e.name}`)
  // E2 cidrMatch: the field "must be of type ip"; IPv4 and IPv6 ranges; null for a null field.
  const type = fieldType(schema, e.field)
  const cidrs = e.args.map((a) => stringArg(a, 'cidrMatch'))
  for (const c of cidrs) if (!cidrRange(c)) throw new QueryError(`bad CIDR ${JSON.stringify(c)}`)
  if (type === undefined) return null
  if (type !== 'ip') throw new QueryError(`cidrMatch on the ${type} field ${e.field.name}`)
  return anyValue(rec.values.get(e.field.name) ?? [], (v) => typeof v === 'string' && cidrs.some((c) => inCidr(v, c)))
}

function evaluate(e: Expr, rec: MappedEvent, schema: Schema): Truth {
  switch (e.kind) {
    case 'and':
      return and(e.items.map((i) => evaluate(i, rec, schema)))
    case 'or':
      return or(e.items.map((i) => evaluate(i, rec, schema)))
    case 'not':
      return not(evaluate(e.item, rec, schema))
    case 'literal':
      if (e.value.type !== 'boolean') throw new QueryError(`a ${e.value.type} used as a condition`)
      return e.value.value
    case 'compare':
      return compare(e, rec, schema)
    case 'call':
      return call(e, rec, schema)
  }
}

/** The event category must equal the record's `event.category` (E1 "Basic syntax"); `any` takes every event. */
function inCategory(q: EqlQuery, rec: MappedEvent): boolean {
  if (q.category === 'any') return true
  return (rec.values.get('event.category') ?? []).includes(q.category)
}

const verifyError = (code: DiagnosticCode, message: string): Diagnostic => ({
  code,
  severity: 'error',
  message,
  target: 'eql',
})

/** The fields a condition names (event.category is the query's category, read by inCategory). */
function fieldsRead(e: Expr, out = new Set<string>(['event.category'])): Set<string> {
  if (e.kind === 'and' || e.kind === 'or') e.items.forEach((x) => fieldsRead(x, out))
  else if (e.kind === 'not') fieldsRead(e.item, out)
  else if (e.kind === 'compare' || e.kind === 'call') out.add(e.field.name)
  return out
}

export async function verify(query: string, events: readonly JsonEvent[], options?: TargetOptions): Promise<Verified> {
  const parsed = parseEql(query)
  if (!parsed.query) {
    return {
      diagnostics: parsed.errors.map((e) =>
        verifyError('verify/parse', `eql: cannot parse the query at offset ${e.offset}: ${e.message}`),
      ),
    }
  }
  const model = eqlModel(options)
  if (typeof model === 'string') return { diagnostics: [verifyError('config/pipeline', model)] }
  const q = parsed.query
  try {
    const unrepresentable: number[] = []
    const leftOut: LeftOut[] = []
    const reads = fieldsRead(q.condition)
    const diagnostics: Diagnostic[] = []
    const matches = events.map((event, i) => {
      const rec = eqlRecord(model, event)
      // An event that lands in no index is not searched.
      if (!rec) {
        leftOut.push({ index: i, reason: 'lands in no Elastic index' })
        return false
      }
      // A field the query does not read cannot change its answer, whatever Elasticsearch made of it.
      const inexact = rec.inexact.filter((f) => reads.has(first(f.split(' '))))
      if (inexact.length > 0) {
        unrepresentable.push(i)
        leftOut.push({ index: i, reason: `Elasticsearch would not hold ${inexact.join(', ')} as written` })
        diagnostics.push({
          ...verifyError(
            'verify/unrepresentable-event',
            `eql: event ${i}: Elasticsearch would not hold ${inexact.join(', ')} as written (coerced or rejected by the field's type)`,
          ),
          severity: 'warning',
        })
      }
      return inCategory(q, rec) && evaluate(q.condition, rec, model.schema) === true
    })
    return { matches, unrepresentable, leftOut, diagnostics }
  } catch (e) {
    if (e instanceof QueryError || e instanceof LuceneSyntaxError || e instanceof SyntaxError) {
      return { diagnostics: [verifyError('verify/eval', `eql: cannot evaluate the query: ${e.message}`)] }
    }
    throw e
  }
}

export const verifier: Verifier = { id: 'eql', verify }
