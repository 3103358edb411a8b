/**
 * Whole-value wildcard matching for the verifiers (SPL `*` and `like`, EQL `:`/`like`): a pattern
 * of literal code points, "any run" and "one code point", matched in at most value × pattern steps.
 * A regular expression built from the pattern would backtrack polynomially in the number of
 * wildcards (`*a*a*a*a*b` on a long run of `a`). Independent of the reference evaluator's matcher.
 */
import { codePointAt } from '../guards.js'

/** A pattern item: a code point, or ANY (`*`, `%`) or ONE (`?`, `_`). */
export const ANY = -1
export const ONE = -2
export type GlobPattern = readonly number[]

const codePoints = (s: string): number[] => Array.from(s, (c) => codePointAt(c, 0))

/** Build a pattern from text: `any` and `one` are the wildcard characters, every other one literal. */
export function globPattern(text: string, any: string, one: string): GlobPattern {
  return Array.from(text, (c) => (c === any ? ANY : c === one ? ONE : codePointAt(c, 0)))
}

/**
 * The classic two-cursor match: on a mismatch, retry from the last `*` one character further on.
 * Each retry moves the value cursor forward, so the work is bounded by value × pattern.
 */
export function globMatches(pattern: GlobPattern, text: string): boolean {
  const v = codePoints(text)
  let p = 0
  let i = 0
  let star = -1
  let starAt = 0
  while (i < v.length) {
    const c = pattern[p]
    if (p < pattern.length && (c === ONE || c === v[i])) {
      p++
      i++
    } else if (c === ANY) {
      star = p++
      starAt = i
    } else if (star >= 0) {
      p = star + 1
      i = ++starAt
    } else return false
  }
  while (pattern[p] === ANY) p++
  return p === pattern.length
}
