/**
 * Sigma values as Lucene regular expressions, for what EQL's `:`/`like` cannot say: Sigma regexes
 * (JavaScript syntax, searched unanchored) and wildcard patterns holding a literal `*`/`?` or a
 * non-ASCII letter. EQL's `regex`/`regex~` use Lucene's RegExp syntax, which always matches the
 * whole value and whose `~` (case-insensitive) form folds ASCII letters only:
 * https://www.elastic.co/guide/en/elasticsearch/reference/current/regexp-syntax.html,
 * https://www.elastic.co/guide/en/elasticsearch/reference/current/eql-syntax.html (regex, regex~).
 */
import type { Pattern } from '../ast/nodes.js'
import { normalize } from '../ast/pattern.js'

/** Why a value cannot be written as a Lucene regex: the construct and an explanation. */
export class Inexpressible extends Error {
  constructor(
    readonly construct: string,
    readonly reason: string,
  ) {
    super(reason)
  }
}

const cp = (s: string): number => s.codePointAt(0)!
const isAsciiAlnum = (c: string): boolean => /^[A-Za-z0-9]$/.test(c)

/**
 * One code point as a Lucene literal. Lucene reserves `. ? + * | { } [ ] ( ) " \` and, with the
 * optional operators on, `# @ & < > ~`; a backslash makes any character literal, so every
 * printable ASCII character other than a letter or digit is escaped.
 */
export function luceneChar(c: string): string {
  return /^[!-/:-@[-`{-~]$/.test(c) ? '\\' + c : c
}

/**
 * Code points whose lowercase is one code point L although L's uppercase is not them (Kelvin sign,
 * Ohm sign, ẞ, titlecase digraphs, Greek with prosgegrammeni…): the only variants that
 * `c.toLowerCase()` / `toUpperCase()` alone do not reveal. Computed by scanning all of Unicode with
 * Node's ICU; test/eql/backend.test.ts re-checks the list against a full scan.
 */
export const IRREGULAR_LOWER: readonly string[] = [
  0x1c5, 0x1c8, 0x1cb, 0x1f2, 0x3f4, 0x1e9e, 0x1f88, 0x1f89, 0x1f8a, 0x1f8b, 0x1f8c, 0x1f8d, 0x1f8e, 0x1f8f, 0x1f98,
  0x1f99, 0x1f9a, 0x1f9b, 0x1f9c, 0x1f9d, 0x1f9e, 0x1f9f, 0x1fa8, 0x1fa9, 0x1faa, 0x1fab, 0x1fac, 0x1fad, 0x1fae,
  0x1faf, 0x1fbc, 0x1fcc, 0x1ffc, 0x2126, 0x212a, 0x212b,
].map((x) => String.fromCodePoint(x))

/**
 * Every code point whose `toLowerCase()` equals that of `c` (Sigma's case-insensitive matching,
 * src/evaluate/evaluate.ts): `c`, its lower and upper case, and the irregular ones above.
 */
export function lowerVariants(c: string): string[] {
  const l = c.toLowerCase()
  const candidates = [c, l, c.toUpperCase(), l.toUpperCase(), ...IRREGULAR_LOWER]
  const out = new Set(candidates.filter((x) => [...x].length === 1 && x.toLowerCase() === l))
  return [...out].sort()
}

/**
 * Characters whose case-insensitive meaning under Sigma (the whole value lowercased) depends on
 * their neighbours or changes the value's length: Greek sigma (final ς), the dotted capital I
 * (lowercases to `i` + U+0307) and that combining dot. No per-character rewriting can match them.
 */
const CONTEXTUAL = /[\u03a3\u03c2\u03c3\u0130\u0307]/u

/** True when a case-insensitive literal needs no help from us: ASCII or without case. */
export function caseSafe(c: string): boolean {
  return cp(c) < 128 || (c.toLowerCase() === c && c.toUpperCase() === c)
}

export function checkCaseFolding(text: string): void {
  const m = CONTEXTUAL.exec(text)
  if (m) {
    throw new Inexpressible(
      'case-folding',
      `eql cannot match ${JSON.stringify(m[0])} case-insensitively as Sigma does: its lowercase depends on the letters around it or has another length`,
    )
  }
}

/** A literal character of a case-insensitive value: itself (ASCII, folded by `regex~`) or a class of its variants. */
function insensitiveChar(c: string): string {
  if (caseSafe(c)) return luceneChar(c)
  const vs = lowerVariants(c)
  return vs.length === 1 ? luceneChar(c) : '[' + vs.map(luceneChar).join('') + ']'
}

/**
 * A Sigma wildcard pattern as a whole-value Lucene regex: `*` → `.*`, `?` → `.` (one code point
 * in both), literals escaped; case-insensitive patterns expect `regex~` and spell non-ASCII
 * letters as classes of their case variants.
 */
export function patternToLucene(pattern: Pattern, insensitive: boolean): string {
  let out = ''
  for (const s of normalize(pattern)) {
    if (s.kind === 'any') out += '.*'
    else if (s.kind === 'one') out += '.'
    else {
      if (insensitive) checkCaseFolding(s.text)
      for (const c of s.text) out += insensitive ? insensitiveChar(c) : luceneChar(c)
    }
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Sigma regex (JavaScript syntax, no `u` flag) → Lucene RegExp

let jsCanonGroups: Map<string, string[]> | undefined

/**
 * JavaScript's case-insensitive matching without the `u` flag compares Canonicalize(ch): the
 * upper case of a UTF-16 unit when that is one unit, except that a non-ASCII unit never maps to
 * ASCII (ECMA-262 §22.2.2.7.3 Canonicalize). The units sharing `c`'s canonical form, BMP only.
 */
function jsVariants(c: string): string[] {
  const canon = (u: string): string => {
    const up = u.toUpperCase()
    if (up.length !== 1) return u
    if (u.charCodeAt(0) >= 128 && up.charCodeAt(0) < 128) return u
    return up
  }
  if (!jsCanonGroups) {
    jsCanonGroups = new Map()
    for (let x = 0; x < 0x10000; x++) {
      if (x >= 0xd800 && x <= 0xdfff) continue
      const u = String.fromCharCode(x)
      const k = canon(u)
      const g = jsCanonGroups.get(k)
      if (g) g.push(u)
      else jsCanonGroups.set(k, [u])
    }
  }
  if (c.length !== 1) return [c]
  return jsCanonGroups.get(canon(c)) ?? [c]
}

/** JavaScript's `\s` (WhiteSpace and LineTerminator, ECMA-262 §22.2.2.9). */
const JS_SPACE = [
  '\t',
  '\n',
  '\v',
  '\f',
  '\r',
  ' ',
  '\u00a0',
  '\u1680',
  '\u2000-\u200a',
  '\u2028',
  '\u2029',
  '\u202f',
  '\u205f',
  '\u3000',
  '\ufeff',
]
const classItem = (item: string): string =>
  item.length === 3 && item[1] === '-' ? luceneChar(item[0]!) + '-' + luceneChar(item[2]!) : luceneChar(item)
const SETS: Readonly<Record<string, string>> = {
  d: '0-9',
  w: '0-9A-Za-z_',
  s: JS_SPACE.map(classItem).join(''),
}
/** `.` without the `s` flag: any unit but a line terminator. */
const LINE_TERMINATORS = ['\n', '\r', '\u2028', '\u2029'].map(luceneChar).join('')
/**
 * Without the `u` flag, `.` and negated classes match one UTF-16 unit, so alone they never match
 * a whole astral character (an emoji is two units); repeated without bound they match any run.
 * Lucene counts code points, so a single such atom excludes the astral planes explicitly.
 */
const ASTRAL = '\u{10000}-\u{10FFFF}'

interface Flags {
  readonly i: boolean
  readonly m: boolean
  readonly s: boolean
}

/**
 * A Sigma regular expression (searched, unanchored, JavaScript syntax) as a Lucene regex that
 * matches the whole value exactly when the Sigma regex finds a match in it. `^`/`$` are accepted
 * only at the edges of a top-level alternative (then the `.*` padding is dropped on that side).
 * Throws Inexpressible for lookaround, backreferences, word boundaries, anchors elsewhere or with
 * the `m` flag, and a few rarities.
 */
export function regexToLucene(source: string, flags: Flags): string {
  return new RegexTranslator(unwrapAlternatives(source), flags).translate()
}

/**
 * The top-level alternatives of a regex source, split at `|` outside groups and classes; a group
 * that is a whole alternative (`(^a$)|(^b$)`, unquantified) is unwrapped and its own alternatives
 * spliced in — the same language, with its anchors now at the edges where they can be read.
 */
function unwrapAlternatives(source: string): string {
  const split = (src: string): string[] | undefined => {
    const out: string[] = []
    let depth = 0
    let cls = false
    let from = 0
    for (let i = 0; i < src.length; i++) {
      const c = src[i]
      if (c === '\\') i++
      else if (cls) cls = c !== ']'
      else if (c === '[') cls = true
      else if (c === '(') depth++
      else if (c === ')') depth--
      else if (c === '|' && depth === 0) {
        out.push(src.slice(from, i))
        from = i + 1
      }
      if (depth < 0) return undefined
    }
    out.push(src.slice(from))
    return depth === 0 && !cls ? out : undefined
  }
  /** The inside of `(…)` / `(?:…)` / `(?<n>…)` when the group spans the whole text. */
  const whole = (alt: string): string | undefined => {
    const open = /^\((\?:|\?<[A-Za-z_$][\w$]*>)?/.exec(alt)
    if (!open || !alt.endsWith(')') || alt.endsWith('\\)')) return undefined
    const inner = alt.slice(open[0].length, -1)
    return split(inner) ? inner : undefined
  }
  const alts = split(source)
  if (!alts) return source
  const flat = alts.flatMap((a) => {
    let cur = a
    for (let inner = whole(cur); inner !== undefined; inner = whole(cur)) cur = inner
    return cur === a ? [a] : (split(cur) ?? [a])
  })
  return flat.join('|')
}

interface Term {
  /** plain: no unit atom; unit: `.`/negated class/`\D\W\S` (text built by position); group-unit: a group holding one. */
  readonly kind: 'plain' | 'unit' | 'group-unit'
  readonly set: string
  readonly q: string
  readonly text: string
}

class RegexTranslator {
  private i = 0
  constructor(
    private readonly src: string,
    private readonly flags: Flags,
  ) {}

  private refuse(construct: string, what: string): never {
    throw new Inexpressible(
      construct,
      `eql cannot express ${what} in a Lucene regular expression (regex ${JSON.stringify(this.src)})`,
    )
  }

  private peek(n = 0): string | undefined {
    return this.src[this.i + n]
  }

  translate(): string {
    const alts: string[] = []
    for (;;) {
      alts.push(this.alternative(true))
      if (this.peek() === '|') {
        this.i++
        continue
      }
      if (this.i < this.src.length) this.refuse('regex', 'an unbalanced ")"')
      break
    }
    return alts.join('|')
  }

  private disjunction(): string {
    const alts: string[] = []
    for (;;) {
      const a = this.alternative(false)
      // Lucene reads an empty alternative as a parse error; `()` is its empty string.
      alts.push(a === '' ? '()' : a)
      if (this.peek() === '|') {
        this.i++
        continue
      }
      return alts.join('|')
    }
  }

  private alternative(top: boolean): string {
    let start = false
    let end = false
    const terms: Term[] = []
    const anchor = (c: string): never =>
      this.refuse('regex-anchor', `the anchor ${c} ${this.flags.m ? 'with the m flag' : 'inside the expression'}`)
    if (top && this.peek() === '^') {
      if (this.flags.m) anchor('^')
      start = true
      this.i++
    }
    for (;;) {
      const c = this.peek()
      if (c === undefined || c === '|' || c === ')') break
      if (c === '$') {
        const next = this.peek(1)
        if (!top || this.flags.m || (next !== undefined && next !== '|')) anchor('$')
        end = true
        this.i++
        break
      }
      if (c === '^') anchor('^')
      terms.push(this.term())
    }
    const body = terms
      .map((t, k) => this.termText(t, top && ((k === 0 && !start) || (k === terms.length - 1 && !end)), terms[k - 1]))
      .join('')
    if (!top) return body
    const inner = body === '' ? '()' : body
    return (start ? '' : '.*') + (start || end ? inner : `(${inner})`) + (end ? '' : '.*')
  }

  /**
   * A term's Lucene text. JavaScript without the `u` flag matches `.` and negated classes one
   * UTF-16 unit at a time, so such a "unit atom" may match half of an astral character (an emoji),
   * while Lucene matches whole code points. Exact rewrites:
   * - repeated without bound (`*`, `+`, `{0,}`, `{1,}`): any run of units is a run of code points;
   * - at most once next to the search's open edge (`a.` unanchored): the other half is absorbed by
   *   the padding, so any code point;
   * - at most once between other atoms: an astral character cannot fit, so BMP only.
   * Two unit atoms side by side, or counted ones (`.{2}`), could split a character: refused
   * (docs/semantics.md: a target whose engine would count differently refuses).
   */
  private termText(t: Term, atOpenEdge: boolean, before: Term | undefined): string {
    if (before && before.kind !== 'plain' && t.kind !== 'plain')
      this.refuse(
        'regex',
        'two single-character atoms side by side (JavaScript counts UTF-16 units, Lucene code points)',
      )
    if (t.kind === 'group-unit' && atOpenEdge)
      this.refuse(
        'regex',
        'a group with a single-character atom at the edge of the search (JavaScript counts UTF-16 units, Lucene code points)',
      )
    if (t.kind !== 'unit') return t.text
    if (t.q === '*' || t.q === '+' || t.q === '{0,}' || t.q === '{1,}')
      return (t.set === '' ? '.' : `[^${t.set}]`) + t.q
    if (t.q !== '' && t.q !== '?' && t.q !== '{0,1}' && t.q !== '{1}' && t.q !== '{1,1}') {
      this.refuse(
        'regex',
        `the count ${t.q} on a single-character atom (JavaScript counts UTF-16 units, Lucene code points)`,
      )
    }
    const set = atOpenEdge ? t.set : t.set + ASTRAL
    return (set === '' ? '.' : `[^${set}]`) + t.q
  }

  /** Set by atom(): the atom matches any one UTF-16 unit of a set given as a negated Lucene class body. */
  private unitSet: string | undefined
  /** How many unit atoms were read so far (a group holding one is itself unit-edged). */
  private units = 0

  private term(): Term {
    const start = this.i
    const unitsBefore = this.units
    this.unitSet = undefined
    const atom = this.atom()
    const unitSet = this.unitSet as string | undefined
    const q = this.quantifier()
    if (unitSet !== undefined) {
      this.units++
      return { kind: 'unit', set: unitSet, q, text: '' }
    }
    const atomText = this.src.slice(start, this.i)
    // Without the `u` flag a quantifier binds to the low surrogate of an astral character alone.
    if (q !== '' && /^[\ud800-\udbff][\udc00-\udfff]/.test(atomText))
      this.refuse('regex', 'a quantifier on an astral character')
    if (this.units > unitsBefore) {
      const m = /^\{(\d+)(?:,(\d*))?\}$/.exec(q)
      if (
        m &&
        (Number(m[1]) >= 2 ||
          (m[2] !== undefined && m[2] !== '' && Number(m[2]) >= 2) ||
          (m[2] === undefined && Number(m[1]) >= 2))
      ) {
        this.refuse('regex', `the count ${q} on a group holding a single-character atom`)
      }
      return { kind: 'group-unit', set: '', q, text: atom + q }
    }
    return { kind: 'plain', set: '', q, text: atom + q }
  }

  private quantifier(): string {
    const c = this.peek()
    let q = ''
    if (c === '*' || c === '+' || c === '?') {
      q = c
      this.i++
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i))
      if (!m) return ''
      const lo = Number(m[1])
      const hi = m[2] === undefined ? lo : m[3] === '' ? undefined : Number(m[3])
      if (hi !== undefined && hi < lo) this.refuse('regex', `the quantifier ${m[0]}`)
      q = m[2] === undefined ? `{${lo}}` : hi === undefined ? `{${lo},}` : `{${lo},${hi}}`
      this.i += m[0].length
    } else {
      return ''
    }
    // A lazy quantifier matches the same values; only which substring is found differs.
    if (this.peek() === '?') this.i++
    const after = this.peek()
    if (after === '*' || after === '+' || after === '?') this.refuse('regex', 'a repeated quantifier')
    if (after === '{' && /^\{\d+(,\d*)?\}/.test(this.src.slice(this.i))) this.refuse('regex', 'a repeated quantifier')
    return q
  }

  private atom(): string {
    const c = this.peek()!
    if (c === '(') {
      this.i++
      if (this.peek() === '?') {
        const rest = this.src.slice(this.i)
        if (rest.startsWith('?:')) this.i += 2
        else if (/^\?<[A-Za-z_$][\w$]*>/.test(rest)) this.i += /^\?<[A-Za-z_$][\w$]*>/.exec(rest)![0].length
        else
          this.refuse(
            'regex-lookaround',
            rest.startsWith('?=') || rest.startsWith('?!') || rest.startsWith('?<')
              ? 'a lookaround'
              : 'the group syntax (?',
          )
      }
      const inner = this.disjunction()
      if (this.peek() !== ')') this.refuse('regex', 'an unclosed "("')
      this.i++
      this.unitSet = undefined
      return `(${inner})`
    }
    if (c === '[') return this.charClass()
    if (c === '.') {
      this.i++
      this.unitSet = this.flags.s ? '' : LINE_TERMINATORS
      return ''
    }
    if (c === '\\') return this.escape()
    if (c === '*' || c === '+' || c === '?') this.refuse('regex', `a quantifier ${c} with nothing to repeat`)
    if (c === '{' && /^\{\d+(,\d*)?\}/.test(this.src.slice(this.i)))
      this.refuse('regex', 'a quantifier with nothing to repeat')
    return this.literal(this.codePoint())
  }

  /** One code point of source text (a surrogate pair is one literal character). */
  private codePoint(): string {
    const ch = String.fromCodePoint(this.src.codePointAt(this.i)!)
    this.i += ch.length
    return ch
  }

  private literal(ch: string): string {
    if (!this.flags.i || ch.length !== 1) return luceneChar(ch)
    const vs = jsVariants(ch)
    // ASCII letters are folded by `regex~` itself; other letters need their variants spelt out.
    if (vs.length === 1 || (cp(ch) < 128 && vs.every((v) => cp(v) < 128))) return luceneChar(ch)
    return '[' + vs.map(luceneChar).join('') + ']'
  }

  /** An escape outside a class: a set (`[0-9]`…) or one literal character. */
  private escape(): string {
    const set = this.escapeSet(false)
    if (set !== undefined) return set
    return this.literal(this.escapeChar())
  }

  /** `\d \w \s` and their negations, as a Lucene class; undefined when the escape is not a set. */
  private escapeSet(inClass: boolean): string | undefined {
    const e = this.peek(1)
    if (e === undefined) this.refuse('regex', 'a trailing backslash')
    const lower = e.toLowerCase()
    if (!(lower === 'd' || lower === 'w' || lower === 's')) return undefined
    const negated = e !== lower
    if (inClass && negated) this.refuse('regex', `\\${e} inside a character class`)
    this.i += 2
    if (inClass) return SETS[lower]!
    if (negated) {
      this.unitSet = SETS[lower]!
      return ''
    }
    return `[${SETS[lower]}]`
  }

  /** A single-character escape (`\n`, `\x41`, `\u0041`, `\.`); refuses the ones that are not characters. */
  private escapeChar(): string {
    const e = this.peek(1)!
    const simple: Record<string, string> = { t: '\t', n: '\n', r: '\r', v: '\v', f: '\f' }
    if (simple[e] !== undefined) {
      this.i += 2
      return simple[e]!
    }
    if (e === 'b' || e === 'B') this.refuse('regex-boundary', `the word boundary \\${e}`)
    if (/[1-9]/.test(e) || e === 'k') this.refuse('regex-backreference', 'a backreference')
    if (e === '0') {
      if (/[0-9]/.test(this.peek(2) ?? '')) this.refuse('regex', 'an octal escape')
      this.i += 2
      return '\0'
    }
    if (e === 'x') {
      const m = /^\\x([0-9A-Fa-f]{2})/.exec(this.src.slice(this.i))
      if (!m) this.refuse('regex', 'the escape \\x without two hex digits')
      this.i += 4
      return String.fromCharCode(parseInt(m[1]!, 16))
    }
    if (e === 'u') {
      const m = /^\\u([0-9A-Fa-f]{4})(\\u([dD][c-fC-F][0-9A-Fa-f]{2}))?/.exec(this.src.slice(this.i))
      if (!m) this.refuse('regex', 'the escape \\u without four hex digits')
      const hi = parseInt(m[1]!, 16)
      if (hi >= 0xd800 && hi <= 0xdbff && m[3]) {
        this.i += 12
        return String.fromCharCode(hi, parseInt(m[3], 16))
      }
      if (hi >= 0xd800 && hi <= 0xdfff) this.refuse('regex', 'a lone surrogate escape')
      this.i += 6
      return String.fromCharCode(hi)
    }
    if (e === 'c' || e === 'p' || e === 'P') this.refuse('regex', `the escape \\${e}`)
    this.i += 1
    return this.codePoint()
  }

  /** `[...]` / `[^...]`: ranges and sets; with the `i` flag every member's case variants are added. */
  private charClass(): string {
    this.i++
    let negated = false
    if (this.peek() === '^') {
      negated = true
      this.i++
    }
    const items: string[] = []
    const singles: string[] = []
    const ranges: Array<[number, number]> = []
    for (;;) {
      const c = this.peek()
      if (c === undefined) this.refuse('regex', 'an unclosed "["')
      if (c === ']') {
        this.i++
        break
      }
      let from: string
      if (c === '\\') {
        const set = this.escapeSet(true)
        if (set !== undefined) {
          items.push(set)
          if (this.peek() === '-' && this.peek(1) !== ']') this.refuse('regex', 'a range from a character set')
          continue
        }
        from = this.peek(1) === 'b' ? ((this.i += 2), '\b') : this.escapeChar()
      } else {
        from = this.codePoint()
      }
      if (from.length !== 1) this.refuse('regex', 'an astral character inside a character class')
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== undefined) {
        this.i++
        let to: string
        if (this.peek() === '\\') {
          if (this.escapeSetAhead()) this.refuse('regex', 'a range to a character set')
          to = this.peek(1) === 'b' ? ((this.i += 2), '\b') : this.escapeChar()
        } else {
          to = this.codePoint()
        }
        if (to.length !== 1) this.refuse('regex', 'an astral character inside a character class')
        if (to < from) this.refuse('regex', 'a reversed range')
        ranges.push([from.charCodeAt(0), to.charCodeAt(0)])
        items.push(luceneChar(from) + '-' + luceneChar(to))
      } else {
        singles.push(from)
        items.push(luceneChar(from))
      }
    }
    if (this.flags.i) {
      const extra = new Set<string>()
      for (const s of singles) for (const v of jsVariants(s)) extra.add(v)
      for (const [lo, hi] of ranges) {
        if (hi - lo > 0x3000) this.refuse('regex', 'a wide character range with the i flag')
        for (let x = lo; x <= hi; x++) for (const v of jsVariants(String.fromCharCode(x))) extra.add(v)
      }
      for (const [lo, hi] of ranges)
        for (const v of [...extra]) if (v.charCodeAt(0) >= lo && v.charCodeAt(0) <= hi) extra.delete(v)
      for (const s of singles) extra.delete(s)
      items.push(...[...extra].sort().map(luceneChar))
    }
    if (items.length === 0 && !negated) this.refuse('regex', 'an empty character class')
    if (negated) {
      // `[^]` is any unit.
      this.unitSet = items.join('')
      return ''
    }
    return `[${items.join('')}]`
  }

  private escapeSetAhead(): boolean {
    const e = this.peek(1)
    return e !== undefined && /[dDwWsS]/.test(e)
  }
}
