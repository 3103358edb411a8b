/**
 * Sigma wildcard patterns (`*` any run, `?` one character) matched without a regular expression:
 * a backtracking engine takes time polynomial in the value to the power of the number of `*`
 * (`*a*a*a*a*b` on a long run of `a`), this takes at most value × pattern steps.
 *
 * Characters are code points, as with the `u` flag the evaluator used before: `?` is one emoji.
 */
import type { Pattern } from '../ast/nodes.js'
import { normalize } from '../ast/pattern.js'
import { codePointAt, first as firstItem, last as lastItem } from '../guards.js'

/** One code point per entry; -1 stands for `?`. */
type Chunk = number[]

const codePoints = (s: string): number[] => {
  const out: number[] = []
  for (const ch of s) out.push(codePointAt(ch, 0))
  return out
}

/** Does `chunk` match `value` at `at` exactly? */
function chunkAt(chunk: Chunk, value: number[], at: number): boolean {
  if (at + chunk.length > value.length) return false
  for (let j = 0; j < chunk.length; j++) if (chunk[j] !== -1 && chunk[j] !== value[at + j]) return false
  return true
}

/**
 * A whole-value matcher for the pattern; `fold` is applied to the pattern's literal text here and
 * must be applied by the caller to each value.
 */
export function globMatcher(pattern: Pattern, fold: (s: string) => string): (value: string) => boolean {
  // The pattern as chunks between `*`: [first, ...middle, last]. A chunk holds literals and `?`.
  const chunks: Chunk[] = [[]]
  for (const s of normalize(pattern)) {
    if (s.kind === 'any') chunks.push([])
    else if (s.kind === 'one') lastItem(chunks).push(-1)
    else lastItem(chunks).push(...codePoints(fold(s.text)))
  }
  const first = firstItem(chunks)
  if (chunks.length === 1)
    return (v) => {
      const value = codePoints(v)
      return value.length === first.length && chunkAt(first, value, 0)
    }
  const last = lastItem(chunks)
  const middle = chunks.slice(1, -1)
  return (v) => {
    const value = codePoints(v)
    const end = value.length - last.length
    if (end < first.length || !chunkAt(first, value, 0) || !chunkAt(last, value, end)) return false
    // Each middle chunk at its leftmost place after the previous one: a later place never helps.
    let at = first.length
    for (const chunk of middle) {
      let found = -1
      for (let k = at; k + chunk.length <= end; k++)
        if (chunkAt(chunk, value, k)) {
          found = k
          break
        }
      if (found < 0) return false
      at = found + chunk.length
    }
    return true
  }
}
