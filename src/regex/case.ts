/** JavaScript's `i` flag (no `u`), as explicit sets of characters for dialects that fold otherwise. */
import { itemAt, must } from '../guards.js'

/**
 * JavaScript's case folding for the `i` flag without `u` (ECMA-262 Canonicalize): the upper case of
 * a character when it is one character, but never from outside ASCII into it (so `ſ` and the
 * Kelvin sign stay apart from `s` and `k`, and `ß` from `ẞ`). PCRE's caseless matching and RE2's
 * `(?i)` fold those together (Unicode simple case folding), so neither printer emits a caseless
 * flag for a Sigma regex: each letter is spelt out as the class of its orbit instead.
 */
function canonicalize(cp: number): number {
  const upper = String.fromCharCode(cp).toUpperCase()
  if (upper.length !== 1) return cp
  const cu = upper.charCodeAt(0)
  return cp >= 128 && cu < 128 ? cp : cu
}

/** canonicalize for every BMP code unit (surrogates map to themselves). */
let canonical: Uint16Array | undefined
/** How many BMP characters share each canonical value: 1 for a character without a case partner. */
let members: Uint8Array | undefined
/** The orbits of two or more characters, by canonical value, each ascending. */
let orbits: Map<number, number[]> | undefined

/**
 * The table, a block of 256 characters at a time: one toUpperCase of the block's text gives every
 * character's upper case when the text keeps its length (no character of the block upper-cases
 * to more than one unit: ß, ŉ, ǰ …, nor to a pair; upper-casing has no context-dependent rule
 * outside the locale-specific ones toUpperCase leaves out), and the block falls back to one
 * character at a time otherwise. Characters alone in their orbit, nearly all of them, get no list.
 */
function buildTables(): void {
  const table = new Uint16Array(0x10000)
  const count = new Uint8Array(0x10000)
  const codes = new Uint16Array(256)
  for (let base = 0; base <= 0xff00; base += 256) {
    if (base >= 0xd800 && base <= 0xdf00) {
      for (let c = base; c < base + 256; c++) table[c] = c
      continue
    }
    for (let k = 0; k < 256; k++) codes[k] = base + k
    const upper = String.fromCharCode(...codes).toUpperCase()
    for (let k = 0; k < 256; k++) {
      const c = base + k
      const key = upper.length === 256 ? canonicalOf(c, upper.charCodeAt(k)) : canonicalize(c)
      table[c] = key
      const n = itemAt(count, key)
      if (n !== 255) count[key] = n + 1
    }
  }
  const multi = new Map<number, number[]>()
  for (let c = 0; c <= 0xffff; c++) {
    if (c >= 0xd800 && c <= 0xdfff) continue
    const key = itemAt(table, c)
    if (itemAt(count, key) < 2) continue
    const list = multi.get(key)
    if (list) list.push(c)
    else multi.set(key, [c])
  }
  canonical = table
  members = count
  orbits = multi
}

/** canonicalize's last step, given the character's one-unit upper case. */
const canonicalOf = (cp: number, cu: number): number => (cp >= 128 && cu < 128 ? cp : cu)

/** The BMP characters JavaScript's `i` flag takes as equal to `cp` (itself included), ascending. */
export function caseOrbit(cp: number): number[] {
  // ASCII letters pair with each other only (canonicalize keeps every other character out of ASCII).
  if (cp < 128) return isAsciiLetter(cp) ? [cp & ~0x20, cp | 0x20] : [cp]
  if (cp > 0xffff || (cp >= 0xd800 && cp <= 0xdfff)) return [cp]
  if (!canonical || !members || !orbits) buildTables()
  const key = itemAt(must(canonical, 'built above'), cp)
  if (itemAt(must(members, 'built above'), key) < 2) return [cp]
  return must(orbits, 'built above').get(key) ?? [cp]
}

const isAsciiLetter = (cp: number): boolean => (cp | 0x20) >= 0x61 && (cp | 0x20) <= 0x7a

/** True when `cp` has a case partner under JavaScript's `i` flag (its orbit has two or more). */
function hasPartner(cp: number): boolean {
  if (cp < 128) return isAsciiLetter(cp)
  if (cp > 0xffff || (cp >= 0xd800 && cp <= 0xdfff)) return false
  if (!canonical || !members) buildTables()
  return itemAt(must(members, 'built above'), itemAt(must(canonical, 'built above'), cp)) >= 2
}

type Run = readonly [number, number]

/** Sorted, merged runs (adjacent or overlapping runs joined). */
export function mergeRuns(runs: readonly Run[]): Run[] {
  const out: Array<[number, number]> = []
  for (const [lo, hi] of [...runs].sort((x, y) => x[0] - y[0])) {
    const last = out[out.length - 1]
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi)
    else out.push([lo, hi])
  }
  return out
}

let cased: number[] | undefined

/**
 * The runs of a class under JavaScript's `i`: every member with its case orbit. Only the few
 * characters that have a case partner are looked up, so a wide range costs little.
 */
export function caseClosedRuns(runs: readonly Run[]): Run[] {
  if (runs.every(([, hi]) => hi < 128)) {
    // Within ASCII only the letters have partners, and those are ASCII letters too.
    const extra: Run[] = []
    for (const [lo, hi] of runs) for (let c = lo; c <= hi; c++) if (isAsciiLetter(c)) extra.push([c ^ 0x20, c ^ 0x20])
    return mergeRuns([...runs, ...extra])
  }
  if (!cased) {
    cased = []
    for (let c = 0; c <= 0xffff; c++) if (hasPartner(c)) cased.push(c)
  }
  const list = cased
  const extra: Run[] = []
  for (const [lo, hi] of runs) {
    // First cased character >= lo (binary search), then every one up to hi.
    let from = 0
    let to = list.length
    while (from < to) {
      const mid = (from + to) >> 1
      if (itemAt(list, mid) < lo) from = mid + 1
      else to = mid
    }
    for (let k = from; k < list.length && itemAt(list, k) <= hi; k++)
      for (const x of caseOrbit(itemAt(list, k))) extra.push([x, x])
  }
  return mergeRuns([...runs, ...extra])
}

/** Runs as the inside of a class: three or more characters as `a-b`, shorter runs one by one. */
export function printRuns(runs: readonly Run[], lit: (cp: number) => string): string {
  let out = ''
  for (const [lo, hi] of runs) {
    if (hi - lo >= 2) out += `${lit(lo)}-${lit(hi)}`
    else for (let cp = lo; cp <= hi; cp++) out += lit(cp)
  }
  return out
}

/** Code points (deduplicated, ascending) as the inside of a class, runs of three or more as ranges. */
export function runsOf(cps: readonly number[], lit: (cp: number) => string): string {
  const ascending = cps.every((cp, k) => k === 0 || cp > itemAt(cps, k - 1))
  const sorted = ascending ? cps : [...new Set(cps)].sort((a, b) => a - b)
  let out = ''
  for (let k = 0; k < sorted.length;) {
    let end = k
    while (end + 1 < sorted.length && sorted[end + 1] === itemAt(sorted, end) + 1) end++
    out +=
      end - k >= 2
        ? `${lit(itemAt(sorted, k))}-${lit(itemAt(sorted, end))}`
        : sorted
            .slice(k, end + 1)
            .map(lit)
            .join('')
    k = end + 1
  }
  return out
}
