/** JavaScript's `i` flag (no `u`), as explicit sets of characters for dialects that fold otherwise. */
import { itemAt } from '../guards.js'

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

let orbits: Map<number, number[]> | undefined
/** canonicalize for every BMP code unit, computed with the orbits. */
let canonical: Uint16Array | undefined

/** The BMP characters JavaScript's `i` flag takes as equal to `cp` (itself included), ascending. */
export function caseOrbit(cp: number): number[] {
  if (!orbits || !canonical) {
    orbits = new Map()
    canonical = new Uint16Array(0x10000)
    for (let c = 0; c <= 0xffff; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue
      const key = canonicalize(c)
      canonical[c] = key
      const list = orbits.get(key)
      if (list) list.push(c)
      else orbits.set(key, [c])
    }
  }
  if (cp > 0xffff || (cp >= 0xd800 && cp <= 0xdfff)) return [cp]
  return orbits.get(itemAt(canonical, cp)) ?? [cp]
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
  if (!cased) {
    caseOrbit(0)
    cased = []
    for (let c = 0; c <= 0xffff; c++) if (caseOrbit(c).length > 1) cased.push(c)
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
