/**
 * The reference evaluator: Sigma semantics over JSON events, one fold over the AST. Every target
 * is held to what this module answers; the choices the spec leaves open are in docs/semantics.md.
 */
import { fold, type Node, type Pattern, type Pos } from '../ast/nodes.js'
import { normalize, patternToSigma } from '../ast/pattern.js'
import type { JsonEvent, Rule } from '../rule/rule.js'
import { ORIGIN_KEY, originOf } from '../origin.js'
import { boundedRegex, RegexBudgetError, type BoundedRegex } from '../bounded-regex.js'
import { ipInCidr } from './cidr.js'
import { globMatcher } from './glob.js'
import { impliedFields, inLogSource } from './logsource.js'
import { getField } from './field.js'

export { getField }

/**
 * The scalar values a field holds: an array field holds each of its elements (any one may
 * match); objects and nulls hold nothing matchable.
 */
function scalars(value: unknown): Array<string | number | boolean> {
  if (Array.isArray(value)) return value.flatMap(scalars)
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return [value]
  return []
}

/** Numbers and booleans are matched through their JSON text: `4688`, `true`. */
const asText = (v: string | number | boolean): string => (typeof v === 'string' ? v : JSON.stringify(v))

const matcherCache = new Map<string, (value: string) => boolean>()

/**
 * Sigma's case-insensitive value matching folds ASCII letters only: `A`–`Z` are `a`–`z`, every
 * other character is compared as it is (`É` ≠ `é`, the Kelvin sign ≠ `k`, `ſ` ≠ `s`). Every
 * target's case-insensitive operator folds exactly this way (KQL `=~`/`contains`, Elasticsearch
 * `:`/`case_insensitive`, SQLite `LIKE`/`NOCASE`), so an ASCII-folding reference keeps every
 * value exact on the native operators; the reasons are in docs/semantics.md ("Case folding").
 */
export const foldCase = (s: string): string =>
  /[A-Z]/.test(s) ? s.replace(/[A-Z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 32)) : s

/**
 * A pattern as a whole-value test, case-insensitive through `foldCase` unless `cased`. Wildcards
 * are matched by `globMatcher` (bounded: value × pattern steps), not by a backtracking regular
 * expression.
 */
export function patternMatcher(pattern: Pattern, cased: boolean): (value: string) => boolean {
  const p = normalize(pattern)
  if (p.every((s) => s.kind === 'lit')) {
    const text = p.map((s) => (s.kind === 'lit' ? s.text : '')).join('')
    if (cased) return (v) => v === text
    const lower = foldCase(text)
    return (v) => foldCase(v) === lower
  }
  const key = (cased ? 'c' : 'i') + patternToSigma(p)
  let test = matcherCache.get(key)
  if (!test) {
    test = cased ? globMatcher(p, (s) => s) : globMatcher(p, foldCase)
    matcherCache.set(key, test)
  }
  const glob = test
  return cased ? glob : (v) => glob(foldCase(v))
}

const regexCache = new Map<string, BoundedRegex>()

/**
 * Sigma regular expressions are searched (unanchored), case-sensitive unless `i`. The test is
 * bounded (src/evaluate/bounded-regex.ts): linear time where V8's linear engine runs the pattern,
 * else a time budget that ends in `RegexBudgetError`.
 */
export function sigmaRegex(source: string, flags: { i: boolean; m: boolean; s: boolean }): BoundedRegex {
  const f = (flags.i ? 'i' : '') + (flags.m ? 'm' : '') + (flags.s ? 's' : '')
  const key = f + '/' + source
  let re = regexCache.get(key)
  if (!re) {
    re = boundedRegex(source, f)
    regexCache.set(key, re)
  }
  return re
}

/** A regular expression ran out of its budget on an event: the rule position and the pattern. */
export class EvaluationLimitError extends Error {
  constructor(
    message: string,
    readonly at: Pos | undefined,
  ) {
    super(message)
  }
}

/** Every string value in the event, nested objects and arrays included: the scope of keywords. */
function stringValues(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value)
  else if (Array.isArray(value)) value.forEach((v) => stringValues(v, out))
  else if (value !== null && typeof value === 'object') Object.values(value).forEach((v) => stringValues(v, out))
  return out
}

function toNumber(v: string | number | boolean): number | undefined {
  if (typeof v === 'number') return v
  if (typeof v === 'string' && /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/.test(v)) return Number(v)
  return undefined
}

/**
 * The reference's answer for a whole rule: the event is of the rule's log source (when it states
 * its origin: src/origin.ts) and the detection selects it. An event stated only by a Windows log
 * source has that log source's channel and event id unless it gives its own (src/evaluate/logsource.ts).
 */
export function evaluateRule(rule: Pick<Rule, 'logsource' | 'detection'>, event: JsonEvent): boolean {
  const origin = originOf(event)
  if (origin === undefined) return evaluate(rule.detection, event)
  if (!inLogSource(rule.logsource, origin)) return false
  const implied = Object.entries(impliedFields(origin)).filter(([k]) => !Object.prototype.hasOwnProperty.call(event, k))
  return evaluate(rule.detection, implied.length ? { ...Object.fromEntries(implied), ...event } : event)
}

export function evaluate(node: Node, event: JsonEvent): boolean {
  return fold<boolean>(node, {
    And: (n, recur) => n.items.every(recur),
    Or: (n, recur) => n.items.some(recur),
    Not: (n, recur) => !recur(n.item),
    Match: (n) => {
      const test = patternMatcher(n.pattern, n.cased)
      return scalars(getField(event, n.field)).some((v) => test(asText(v)))
    },
    Regex: (n) => {
      const re = sigmaRegex(n.source, n.flags)
      try {
        return scalars(getField(event, n.field)).some((v) => re.test(asText(v)))
      } catch (e) {
        if (e instanceof RegexBudgetError) throw new EvaluationLimitError(`${n.field}: ${e.message}`, n.at)
        throw e
      }
    },
    Cidr: (n) => scalars(getField(event, n.field)).some((v) => typeof v === 'string' && ipInCidr(v, n.cidr)),
    Compare: (n) =>
      scalars(getField(event, n.field)).some((v) => {
        const x = toNumber(v)
        if (x === undefined) return false
        switch (n.op) {
          case 'lt':
            return x < n.value
          case 'lte':
            return x <= n.value
          case 'gt':
            return x > n.value
          case 'gte':
            return x >= n.value
        }
      }),
    Exists: (n) => getField(event, n.field) != null,
    Null: (n) => getField(event, n.field) == null,
    FieldRef: (n) => {
      const a = scalars(getField(event, n.field)).map(asText)
      const b = scalars(getField(event, n.ref)).map(asText)
      const norm = n.cased ? (s: string) => s : foldCase
      const right = new Set(b.map(norm))
      return a.some((x) => right.has(norm(x)))
    },
    Keyword: (n) => {
      const test = patternMatcher(n.pattern, n.cased)
      // The origin statement is not part of the record: keywords do not search it.
      return Object.entries(event).some(([k, v]) => k !== ORIGIN_KEY && stringValues(v).some(test))
    },
  })
}
