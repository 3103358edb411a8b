/** JavaScript's `i` flag (no `u`), as explicit sets of characters for dialects that fold otherwise. */

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

/** The BMP characters JavaScript's `i` flag takes as equal to `cp` (itself included), ascending. */
export function caseOrbit(cp: number): number[] {
  if (!orbits) {
    orbits = new Map()
    for (let c = 0; c <= 0xffff; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue
      const key = canonicalize(c)
      const list = orbits.get(key)
      if (list) list.push(c)
      else orbits.set(key, [c])
    }
  }
  return orbits.get(canonicalize(cp)) ?? [cp]
}

/** Code points (deduplicated, ascending) as the inside of a class, runs of three or more as ranges. */
export function runsOf(cps: readonly number[], lit: (cp: number) => string): string {
  const sorted = [...new Set(cps)].sort((a, b) => a - b)
  let out = ''
  for (let k = 0; k < sorted.length;) {
    let end = k
    while (end + 1 < sorted.length && sorted[end + 1] === sorted[end]! + 1) end++
    out +=
      end - k >= 2
        ? `${lit(sorted[k]!)}-${lit(sorted[end]!)}`
        : sorted
            .slice(k, end + 1)
            .map(lit)
            .join('')
    k = end + 1
  }
  return out
}
