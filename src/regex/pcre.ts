/**
 * Regular expressions for Splunk: Sigma values and Sigma `|re` expressions written as PCRE that
 * selects exactly what the reference evaluator selects.
 *
 * Splunk's regular expressions are PCRE ("Splunk regular expressions are PCRE … and use the PCRE C
 * library": https://help.splunk.com/splunk-enterprise/manage-knowledge-objects/knowledge-management-manual/9.1/get-started-with-knowledge-objects/about-splunk-regular-expressions);
 * our reference evaluates Sigma regexes as JavaScript (non-Unicode mode). Where the two dialects
 * read the same text differently, we rewrite it to PCRE with the JavaScript meaning (`.`, `$`,
 * `\s`, `\v`, `m`-mode anchors) or refuse it (escapes such as `\A` `\Z` `\h`, backreferences,
 * variable-length lookbehind, astral characters).
 */
import type { Pattern, RegexFlags } from '../ast/nodes.js'
import { normalize } from '../ast/pattern.js'

/** JavaScript's `\s`: ECMAScript WhiteSpace and LineTerminator, as PCRE class members. */
const JS_SPACE =
  '\\t\\n\\x{0b}\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}'
/** JavaScript's line terminators (what `.` excludes and `m`-mode `^`/`$` stop at). */
const JS_EOL = '\\n\\r\\x{2028}\\x{2029}'

const hex = (cp: number): string => `\\x{${cp.toString(16)}}`

/**
 * One literal character as PCRE text: letters and digits as they are, other printable ASCII
 * backslash-escaped ("a backslash followed by a non-alphanumeric character stands for itself"),
 * controls as `\x{…}`, other characters as themselves (UTF mode).
 */
export function pcreLiteral(ch: string): string {
  const cp = ch.codePointAt(0)!
  return cp < 0x80 ? ASCII_LITERAL[cp]! : ch
}

/** pcreLiteral for each ASCII character, computed once. */
const ASCII_LITERAL: readonly string[] = Array.from({ length: 0x80 }, (_, cp) => {
  const ch = String.fromCharCode(cp)
  if (/[A-Za-z0-9 ]/.test(ch)) return ch
  if (cp < 0x20 || cp === 0x7f) return hex(cp)
  return '\\' + ch
})

/**
 * A Sigma value pattern as an anchored PCRE: `*` any run, `?` exactly one character, the rest
 * literal; `(?i)` unless `cased`. `\z` (not `$`) anchors the end: PCRE's `$` also matches before
 * a final newline.
 *
 * Emitted: `(?i)^C:\\Windows\\[\s\S]*\.exe\z` for `C:\Windows\*.exe`.
 */
export function patternToPcre(pattern: Pattern, cased: boolean): string {
  return patternsToPcre([pattern], cased)
}

/**
 * Several value patterns on one field as one anchored PCRE alternation: a value matches when it
 * matches any of them. Emitted: `(?i)^(?:[\s\S]*\\a\.exe|[\s\S]*\\b\.exe)\z`.
 */
export function patternsToPcre(patterns: readonly Pattern[], cased: boolean): string {
  const body = (pattern: Pattern): string => {
    let out = ''
    for (const s of normalize(pattern)) {
      if (s.kind === 'any') out += '[\\s\\S]*'
      else if (s.kind === 'one') out += '[\\s\\S]'
      else for (const ch of s.text) out += pcreLiteral(ch)
    }
    return out
  }
  const bodies = patterns.map(body)
  const alt = bodies.length === 1 ? bodies[0]! : `(?:${bodies.join('|')})`
  return `${cased ? '' : '(?i)'}^${alt}\\z`
}

export type RegexResult = { readonly pcre: string } | { readonly refused: string }

class Refusal {
  constructor(readonly why: string) {}
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { n: 10, r: 13, t: 9, f: 12, v: 11 }
/** Every code point outside the Basic Multilingual Plane: two UTF-16 units for JavaScript. */
const ASTRAL = '\\x{10000}-\\x{10ffff}'

interface Quant {
  readonly text: string
  readonly min: number
  readonly max: number | undefined
}

/**
 * The pieces of a JavaScript regex, as PCRE text:
 * - `atom`: matches whole BMP characters only (a literal, `\d \w \s`, a class of BMP characters);
 * - `unit`: matches one JavaScript code unit, so possibly half of an emoji (`.`, a negated class,
 *   `\S \D \W`, a class holding them): PCRE matches a whole character, so where it stands matters;
 * - `anchor`: `^` or `$` at the start or end of the text (a character boundary for sure);
 * - `zero`: other zero-width assertions (`\b`, line anchors); `open`/`close` of groups, `look` the
 *   opening of a lookaround (closed by `close`), `alt` (`|`).
 */
type Tok =
  | {
      readonly k: 'atom' | 'anchor' | 'zero' | 'open' | 'look' | 'close' | 'alt'
      readonly text: string
      q?: Quant
      readonly depth: number
    }
  | { readonly k: 'unit'; readonly text: string; q?: Quant; readonly depth: number }

/**
 * A Sigma regular expression (JavaScript syntax and meaning, no `u` flag, searched unanchored) as
 * PCRE with the same matches, or the reason it cannot be.
 */
export function sigmaRegexToPcre(source: string, flags: RegexFlags): RegexResult {
  try {
    return { pcre: render(tokenize(source, flags)) }
  } catch (e) {
    if (e instanceof Refusal) return { refused: e.why }
    throw e
  }
}

function tokenize(source: string, flags: RegexFlags): Tok[] {
  const chars = [...source]
  let i = 0
  let depth = 0
  /** The kinds of the open groups; 'lb' marks a lookbehind (PCRE needs it of fixed length). */
  const groups: string[] = []
  const toks: Tok[] = []
  const push = (k: Tok['k'], text: string): void => {
    toks.push({ k, text, depth })
  }

  /** An escape after `\`: a code point, a set (`\d`…, as PCRE class text), or an assertion. */
  const escape = (inClass: boolean): { cp: number } | { set: string; negated: boolean } | { zero: string } => {
    const c = chars[i++]
    if (c === undefined) throw new Refusal('a trailing backslash')
    switch (c) {
      case 'd':
        return { set: '0-9', negated: false }
      case 'D':
        return { set: '0-9', negated: true }
      case 'w':
        return { set: 'A-Za-z0-9_', negated: false }
      case 'W':
        return { set: 'A-Za-z0-9_', negated: true }
      case 's':
        return { set: JS_SPACE, negated: false }
      case 'S':
        return { set: JS_SPACE, negated: true }
      case 'b':
        return inClass ? { cp: 8 } : { zero: '\\b' }
      case 'B':
        if (inClass) throw new Refusal('\\B inside a character class')
        return { zero: '\\B' }
    }
    if (SIMPLE_ESCAPES[c] !== undefined) return { cp: SIMPLE_ESCAPES[c]! }
    if (c === '0') {
      if (/[0-9]/.test(chars[i] ?? '')) throw new Refusal('an octal escape')
      return { cp: 0 }
    }
    if (c === 'x' || c === 'u') {
      const n = c === 'x' ? 2 : 4
      const h = chars.slice(i, i + n).join('')
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(h)) throw new Refusal(`\\${c} without ${n} hex digits`)
      i += n
      const cp = parseInt(h, 16)
      if (cp >= 0xd800 && cp <= 0xdfff) throw new Refusal('a surrogate escape (\\uD800-\\uDFFF)')
      return { cp }
    }
    if (c === 'c') {
      const l = chars[i]
      if (!l || !/[A-Za-z]/.test(l)) throw new Refusal('\\c without a letter')
      i++
      return { cp: l.toUpperCase().charCodeAt(0) % 32 }
    }
    if (/[1-9]/.test(c) || c === 'k') throw new Refusal('a backreference')
    if (/[A-Za-z0-9]/.test(c)) throw new Refusal(`the escape \\${c}, which PCRE reads differently`)
    return { cp: c.codePointAt(0)! }
  }

  const literal = (cp: number): string => {
    if (cp > 0xffff) throw new Refusal('a character outside the Basic Multilingual Plane (JavaScript counts it as two)')
    return pcreLiteral(String.fromCodePoint(cp))
  }
  /** A literal character; with the i flag, the class of the characters JavaScript takes as equal. */
  const letter = (cp: number): string => {
    if (!flags.i || cp > 0xffff) return literal(cp)
    const same = caseOrbit(cp)
    return same.length === 1 ? literal(cp) : `[${classBody(same)}]`
  }

  /** A class after `[`: an atom when it holds BMP characters only, else a unit. */
  const characterClass = (): void => {
    let negated = false
    if (chars[i] === '^') {
      negated = true
      i++
    }
    type Item = { kind: 'char'; cp: number } | { kind: 'set'; text: string; negated: boolean } | { kind: 'dash' }
    const items: Item[] = []
    for (;;) {
      const c = chars[i++]
      if (c === undefined) throw new Refusal('an unterminated character class')
      if (c === ']') break
      if (c === '\\') {
        const e = escape(true)
        if ('cp' in e) items.push({ kind: 'char', cp: e.cp })
        else if ('set' in e) items.push({ kind: 'set', text: e.set, negated: e.negated })
      } else if (c === '-') items.push({ kind: 'dash' })
      else items.push({ kind: 'char', cp: c.codePointAt(0)! })
    }
    // JavaScript: `[]` matches nothing, `[^]` any code unit.
    if (items.length === 0) {
      if (negated) toks.push({ k: 'unit', text: '[\\s\\S]', depth })
      else push('atom', '(?!)')
      return
    }
    // A '-' makes a range only between two single characters; elsewhere it is literal.
    let body = ''
    const outside: string[] = []
    const members: number[] = []
    for (let k = 0; k < items.length;) {
      const it = items[k]!
      const dash = items[k + 1]
      const end = items[k + 2]
      if (it.kind === 'char' && dash?.kind === 'dash' && end?.kind === 'char') {
        if (it.cp <= 0xdfff && end.cp >= 0xd800)
          throw new Refusal('a character class range over the surrogate code units')
        if (end.cp > 0xffff) throw new Refusal('a character outside the Basic Multilingual Plane in a class')
        for (let cp = it.cp; cp <= end.cp; cp++) members.push(cp)
        k += 3
        continue
      }
      if (it.kind === 'dash') members.push(0x2d)
      else if (it.kind === 'char') {
        if (it.cp > 0xffff) throw new Refusal('a character outside the Basic Multilingual Plane in a class')
        members.push(it.cp)
      } else if (it.negated) outside.push(it.text)
      else body += it.text
      k += 1
    }
    // With the i flag a class holds every character JavaScript takes as equal to a member
    // (\d \w \s and their negations are closed already: ASCII letters only pair with ASCII).
    const closed = flags.i ? [...new Set(members.flatMap(caseOrbit))] : members
    body = classBody(closed) + body
    if (outside.length === 0 && !negated) {
      push('atom', `[${body}]`)
      return
    }
    // Holds \S \D \W, or is negated: it also matches surrogate code units, i.e. half an emoji.
    if (negated && outside.length === 0) toks.push({ k: 'unit', text: `[^${body}]`, depth })
    else if (!negated)
      toks.push({
        k: 'unit',
        text: `(?:${[...(body ? [`[${body}]`] : []), ...outside.map((n) => `[^${n}]`)].join('|')})`,
        depth,
      })
    else throw new Refusal('a negated class holding \\S, \\D or \\W')
  }

  while (i < chars.length) {
    const c = chars[i++]!
    if (c === '\\') {
      const e = escape(false)
      if ('cp' in e) push('atom', letter(e.cp))
      else if ('zero' in e) push('zero', e.zero)
      else if (e.negated) toks.push({ k: 'unit', text: `[^${e.set}]`, depth })
      else push('atom', e.set === JS_SPACE ? `[${JS_SPACE}]` : `\\${e.set === '0-9' ? 'd' : 'w'}`)
    } else if (c === '.') {
      toks.push({ k: 'unit', text: flags.s ? '[\\s\\S]' : `[^${JS_EOL}]`, depth })
    } else if (c === '^') {
      if (flags.m) push('zero', `(?<![^${JS_EOL}])`)
      else push('anchor', '^')
    } else if (c === '$') {
      // PCRE's `$` also matches before a final newline; `\z` is the end only.
      if (flags.m) push('zero', `(?![^${JS_EOL}])`)
      else push('anchor', '\\z')
    } else if (c === '[') {
      characterClass()
    } else if (c === '(') {
      if (groups.includes('lb')) throw new Refusal('a group inside a lookbehind')
      const rest = chars.slice(i, i + 40).join('')
      const m = /^\?(:|=|!|<=|<!)/.exec(rest) ?? /^\?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest)
      if (chars[i] === '?' && !m) throw new Refusal('a group syntax other than (…), (?:…), lookaround or (?<name>…)')
      const open = '(' + (m ? m[0] : '')
      if (m) i += [...m[0]].length
      groups.push(m?.[1] === '<=' || m?.[1] === '<!' ? 'lb' : m?.[1] === '=' || m?.[1] === '!' ? 'la' : '(')
      // A lookaround is zero-width: what stands next to it is not at a known character boundary.
      push(groups[groups.length - 1] === '(' ? 'open' : 'look', open)
      depth++
    } else if (c === ')') {
      if (groups.length === 0) throw new Refusal('an unbalanced )')
      groups.pop()
      depth--
      push('close', ')')
    } else if (c === '|') {
      if (groups.includes('lb') && groups[groups.length - 1] !== 'lb')
        throw new Refusal('an alternation nested inside a lookbehind')
      push('alt', '|')
    } else if (
      c === '*' ||
      c === '+' ||
      c === '?' ||
      (c === '{' && /^\{\d+(,\d*)?\}/.test(c + chars.slice(i, i + 24).join('')))
    ) {
      let text = c
      let min = c === '+' ? 1 : 0
      let max: number | undefined = c === '?' ? 1 : undefined
      if (c === '{') {
        const q = /^\{(\d+)(,(\d*))?\}/.exec(c + chars.slice(i, i + 24).join(''))!
        text = q[0]
        i += q[0].length - 1
        min = Number(q[1])
        max = q[2] === undefined ? min : q[3] === '' ? undefined : Number(q[3])
      }
      if (chars[i] === '?') text += chars[i++]
      const last = toks[toks.length - 1]
      if (!last || last.q || last.k === 'alt' || last.k === 'open')
        throw new Refusal('a quantifier with nothing to repeat')
      if (groups.includes('lb') && (max === undefined || max !== min))
        throw new Refusal('a quantifier inside a lookbehind (PCRE needs a fixed length)')
      last.q = { text, min, max }
    } else if (c === '{') {
      push('atom', '\\{')
    } else {
      push('atom', letter(c.codePointAt(0)!))
    }
  }
  return toks
}

/**
 * JavaScript's case folding for the `i` flag without `u` (ECMA-262 Canonicalize): the upper case of
 * a character when it is one character, but never from outside ASCII into it (so `ſ` and the
 * Kelvin sign stay apart from `s` and `k`, and `ß` from `ẞ`). PCRE's caseless matching folds those
 * together, so `(?i)` is never emitted for a Sigma regex: each letter is spelt out instead.
 */
function canonicalize(cp: number): number {
  const upper = String.fromCharCode(cp).toUpperCase()
  if (upper.length !== 1) return cp
  const cu = upper.charCodeAt(0)
  return cp >= 128 && cu < 128 ? cp : cu
}

let orbits: Map<number, number[]> | undefined

/** The BMP characters JavaScript's `i` flag takes as equal to `cp` (itself included), ascending. */
function caseOrbit(cp: number): number[] {
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

/** Code points as the inside of a PCRE class, runs written as ranges. */
function classBody(cps: readonly number[]): string {
  const sorted = [...new Set(cps)].sort((a, b) => a - b)
  let out = ''
  for (let k = 0; k < sorted.length;) {
    let end = k
    while (end + 1 < sorted.length && sorted[end + 1] === sorted[end]! + 1) end++
    const lit = (cp: number): string => pcreLiteral(String.fromCharCode(cp))
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

/**
 * What a unit meets on one side: `aligned` when that surely starts or ends on a character boundary
 * (a required BMP atom, a required group of BMP atoms, `^`/`$`), `free` at an unanchored edge of the
 * whole pattern (where a search may start or stop anywhere), `other` otherwise (an assertion, a
 * group holding units, a lookaround). Optional BMP atoms and groups are looked past: they cannot
 * take half of an emoji, so they cannot move a split.
 */
function neighbour(
  toks: readonly Tok[],
  pairs: ReadonlyMap<number, number>,
  unitFree: ReadonlySet<number>,
  j: number,
  dir: 1 | -1,
): 'aligned' | 'free' | 'other' {
  for (let k = j + dir; ; k += dir) {
    const t = toks[k]
    if (t === undefined) return 'free'
    if (t.k === 'alt') return t.depth === 0 ? 'free' : 'other'
    if (t.k === 'anchor') return 'aligned'
    if (t.k === 'atom') {
      if (t.q === undefined || t.q.min >= 1) return 'aligned'
      continue
    }
    // A plain group met from outside: `close` going left, `open` going right.
    if ((t.k === 'close' && dir === -1) || (t.k === 'open' && dir === 1)) {
      const other = pairs.get(k)!
      const close = dir === -1 ? t : toks[other]!
      if (!unitFree.has(Math.min(k, other))) return 'other'
      if (close.q === undefined || close.q.min >= 1) return 'aligned'
      k = other
      continue
    }
    return 'other'
  }
}

/** Matching open/close indexes of plain groups, and the plain groups that hold no unit. */
function groupsOf(toks: readonly Tok[]): { pairs: Map<number, number>; unitFree: Set<number> } {
  const pairs = new Map<number, number>()
  const unitFree = new Set<number>()
  const stack: number[] = []
  for (const [k, t] of toks.entries()) {
    if (t.k === 'open' || t.k === 'look') stack.push(k)
    else if (t.k === 'close') {
      const open = stack.pop()!
      if (toks[open]!.k !== 'open') continue
      pairs.set(open, k)
      pairs.set(k, open)
      if (toks.slice(open + 1, k).every((x) => x.k !== 'unit' && x.k !== 'zero' && x.k !== 'look')) unitFree.add(open)
    }
  }
  return { pairs, unitFree }
}

/** A unit that leaves out characters outside the BMP. */
function withoutAstral(unit: string): string {
  if (unit === '[\\s\\S]') return `[^${ASTRAL}]`
  if (unit.startsWith('[^') && unit.endsWith(']')) return `${unit.slice(0, -1)}${ASTRAL}]`
  return `(?![${ASTRAL}])${unit}`
}

/**
 * Render the pieces. A unit stands for one JavaScript code unit; PCRE reads a whole character:
 * - repeated with `*`: both read the same runs (a run can always stop on a character boundary);
 * - repeated with `+`: the same when both sides are aligned or free, else refused;
 * - once (or with `?`) between two aligned neighbours: half an emoji cannot fit, so the unit
 *   leaves out characters outside the BMP; at a free edge, half an emoji is as good as a whole one;
 * - anything else (counted repeats, units side by side, units next to groups) is refused.
 */
function render(toks: readonly Tok[]): string {
  const { pairs, unitFree } = groupsOf(toks)
  let out = ''
  for (const [j, t] of toks.entries()) {
    const q = t.q?.text ?? ''
    if (t.k !== 'unit') {
      out += t.text + q
      continue
    }
    const prev = toks[j - 1]
    const next = toks[j + 1]
    if (prev?.k === 'unit' || next?.k === 'unit')
      throw new Refusal(
        'two single-character wildcards (`.`, a negated class, \\S \\D \\W) side by side: JavaScript may split an emoji between them, PCRE cannot',
      )
    const left = neighbour(toks, pairs, unitFree, j, -1)
    const right = neighbour(toks, pairs, unitFree, j, 1)
    if (t.q && t.q.min === 0 && t.q.max === undefined) {
      out += t.text + q
    } else if (t.q && t.q.min === 1 && t.q.max === undefined) {
      if (left === 'other' || right === 'other')
        throw new Refusal(
          '`.+` or a repeated negated class next to a group, an optional part or an assertion: JavaScript may split an emoji there, PCRE cannot',
        )
      out += t.text + q
    } else if (t.q && !(t.q.max !== undefined && t.q.max <= 1)) {
      throw new Refusal(
        `the counted repeat ${t.q.text} of \`.\` or a negated class: JavaScript counts UTF-16 units, PCRE characters`,
      )
    } else if (left === 'aligned' && right === 'aligned') {
      out += withoutAstral(t.text) + q
    } else if ((left === 'free' && right !== 'other') || (right === 'free' && left !== 'other')) {
      out += t.text + q
    } else {
      throw new Refusal(
        'a single `.` or negated class next to a group, an optional part or an assertion: JavaScript may match half of an emoji there, PCRE cannot',
      )
    }
  }
  return out
}
