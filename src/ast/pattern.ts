/**
 * Helpers over decoded patterns, shared by the evaluator and the backends: what shape a
 * pattern has (exact, contains, startswith, endswith or a general wildcard pattern), and its
 * translation to a regular expression.
 */
import type { Pattern, Segment } from './nodes.js'

export const ANY: Segment = { kind: 'any' }
export const ONE: Segment = { kind: 'one' }
export const lit = (text: string): Segment => ({ kind: 'lit', text })

/** Merge adjacent literals, drop empty ones and collapse `**` runs. */
export function normalize(pattern: Pattern): Pattern {
  const out: Segment[] = []
  for (const s of pattern) {
    const last = out[out.length - 1]
    if (s.kind === 'lit') {
      if (s.text === '') continue
      if (last?.kind === 'lit') out[out.length - 1] = lit(last.text + s.text)
      else out.push(s)
    } else if (s.kind === 'any' && last?.kind === 'any') {
      continue
    } else {
      out.push(s)
    }
  }
  return out
}

export type Shape =
  | { readonly kind: 'exact'; readonly text: string }
  | { readonly kind: 'contains'; readonly text: string }
  | { readonly kind: 'startswith'; readonly text: string }
  | { readonly kind: 'endswith'; readonly text: string }
  /** `*` alone: any value, including the empty string (but the field must be present). */
  | { readonly kind: 'anything' }
  /** Anything else: `?`, or `*` between literals. */
  | { readonly kind: 'wildcard' }

/** Classify a pattern so that a backend can pick its cheapest exact operator. */
export function shapeOf(pattern: Pattern): Shape {
  const p = normalize(pattern)
  if (p.length === 0) return { kind: 'exact', text: '' }
  const [a, b, c] = p
  if (p.length === 1 && a) {
    const only = a
    if (only.kind === 'lit') return { kind: 'exact', text: only.text }
    if (only.kind === 'any') return { kind: 'anything' }
    return { kind: 'wildcard' }
  }
  if (p.length === 2 && a?.kind === 'any' && b?.kind === 'lit') return { kind: 'endswith', text: b.text }
  if (p.length === 2 && a?.kind === 'lit' && b?.kind === 'any') return { kind: 'startswith', text: a.text }
  if (p.length === 3 && a?.kind === 'any' && b?.kind === 'lit' && c?.kind === 'any')
    return { kind: 'contains', text: b.text }
  return { kind: 'wildcard' }
}

/** True when the pattern has a `?` or a `*` anywhere. */
export function hasWildcard(pattern: Pattern): boolean {
  return pattern.some((s) => s.kind !== 'lit')
}

/** The literal text of the pattern (wildcards dropped). */
export function literalText(pattern: Pattern): string {
  return pattern.map((s) => (s.kind === 'lit' ? s.text : '')).join('')
}

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/]/g

/** Escape text for a JavaScript/PCRE regular expression. */
export function escapeRegex(text: string): string {
  return text.replace(REGEX_SPECIAL, '\\$&')
}

/**
 * The pattern as an anchored regular expression source: `*` → `[\s\S]*`, `?` → one character.
 * Written for JavaScript; PCRE and RE2 read it the same way.
 */
export function patternToRegexSource(pattern: Pattern): string {
  let out = '^'
  for (const s of normalize(pattern)) {
    if (s.kind === 'lit') out += escapeRegex(s.text)
    else if (s.kind === 'any') out += '[\\s\\S]*'
    else out += '[\\s\\S]'
  }
  return out + '$'
}

/** Render a pattern back into Sigma's escaped notation (for messages and debugging). */
export function patternToSigma(pattern: Pattern): string {
  return pattern
    .map((s) => (s.kind === 'any' ? '*' : s.kind === 'one' ? '?' : s.text.replace(/[\\*?]/g, '\\$&')))
    .join('')
}
