/**
 * Sigma regular expressions are JavaScript RegExp sources (the reference evaluator compiles them
 * with flags i/m/s, no `u`); KQL's `matches regex` is RE2
 * (https://learn.microsoft.com/kusto/query/re2). This module rewrites one into the other, token by
 * token, where both engines agree, and names the construct it refuses otherwise.
 */

export type Translated = { source: string; refused?: undefined } | { source?: undefined; refused: string }

/** Characters RE2 treats as syntax outside a class: escaped when literal. */
const RE2_SPECIAL = new Set([...'\\.+*?()|[]{}^$'])
/** Inside a class. */
const RE2_CLASS_SPECIAL = new Set([...'\\]-[^'])

const hex = (cp: number): string => `\\x{${cp.toString(16).toUpperCase()}}`

/** Control characters (and the Unicode line breaks) are written as `\x{…}` so literals stay printable. */
function needsHex(cp: number): boolean {
  return cp < 0x20 || cp === 0x7f || cp === 0x85 || cp === 0x2028 || cp === 0x2029
}

/** One code point as an RE2 literal outside a class. */
export function re2Char(cp: number): string {
  if (needsHex(cp)) return hex(cp)
  const c = String.fromCodePoint(cp)
  return RE2_SPECIAL.has(c) ? '\\' + c : c
}

function re2ClassChar(cp: number): string {
  if (needsHex(cp)) return hex(cp)
  const c = String.fromCodePoint(cp)
  return RE2_CLASS_SPECIAL.has(c) ? '\\' + c : c
}

/** Literal text as an RE2 pattern that matches exactly that text. */
export function re2Literal(text: string): string {
  let out = ''
  for (const ch of text) out += re2Char(ch.codePointAt(0)!)
  return out
}

/**
 * JavaScript's `\s` (WhiteSpace and LineTerminator, ECMA-262 §22.2.2.9) spelled out: RE2's `\s` is
 * only `[\t\n\f\r ]` (https://github.com/google/re2/wiki/Syntax).
 */
const JS_SPACE =
  '\\t\\n\\x{B}\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}'
/** Every code point outside the Basic Multilingual Plane (two UTF-16 units in JavaScript). */
const ASTRAL = '\\x{10000}-\\x{10FFFF}'

/**
 * Atoms that match one UTF-16 code unit in JavaScript (no `u` flag), so also half of an emoji: `.`,
 * negated classes, `\S`, `\D`, `\W`. RE2 matches code points. Repeated with `*` or `+` both read the
 * same runs (the `full` form); alone or with `?` the `bare` form leaves astral characters out, as a
 * single JavaScript unit cannot be a whole one. Counted repeats and two such atoms side by side are
 * refused: there JavaScript may split an emoji in two.
 */
interface Unit {
  readonly bare: string
  readonly full: string
}

const negatedUnit = (body: string): Unit => ({ bare: `[^${body}${ASTRAL}]`, full: `[^${body}]` })

class Refusal {
  constructor(readonly why: string) {}
}

/**
 * Translate a JavaScript regex source (flags i, m, s) into an RE2 pattern with the same matches.
 * Refused: lookaround, backreferences, `m` with anchors (JavaScript also breaks lines at `\r`,
 * U+2028 and U+2029, RE2 only at `\n`), `\S` inside a class, repeat counts over 1000 (RE2's limit),
 * a quantifier on a character outside the BMP (JavaScript repeats only its low surrogate).
 */
export function jsToRe2(source: string, flags: { i: boolean; m: boolean; s: boolean }): Translated {
  try {
    const body = translate(source, flags)
    return { source: (flags.i ? '(?i)' : '') + body }
  } catch (e) {
    if (e instanceof Refusal) return { refused: e.why }
    throw e
  }
}

type Quant = { readonly text: string; readonly min: number; readonly max: number | undefined }
type Tok =
  | { k: 'atom'; text: string; astral?: boolean; q?: Quant }
  | { k: 'unit'; unit: Unit; q?: Quant }
  | { k: 'open' | 'alt' | 'anchor' | 'zw'; text: string; q?: Quant }
  | { k: 'close'; text: string; q?: Quant }

function translate(src: string, flags: { m: boolean; s: boolean }): string {
  const cps = [...src].map((c) => c.codePointAt(0)!)
  let i = 0
  const toks: Tok[] = []
  const peek = (k = 0): string => (i + k < cps.length ? String.fromCodePoint(cps[i + k]!) : '')
  const quantify = (text: string, min: number, max: number | undefined): void => {
    const last = toks[toks.length - 1]
    if (last && (last.k === 'atom' || last.k === 'unit' || last.k === 'close') && !last.q) {
      if (last.k === 'atom' && last.astral)
        throw new Refusal('a quantifier after a character outside the Basic Multilingual Plane')
      let t = text
      if (peek() === '?') {
        t += '?'
        i++
      }
      last.q = { text: t, min, max }
    } else {
      throw new Refusal(`a quantifier ${text} with nothing to repeat`)
    }
  }
  while (i < cps.length) {
    const c = peek()
    if (c === '\\') {
      const e = peek(1)
      const text = escape(false)
      if (e === 'S') toks.push({ k: 'unit', unit: negatedUnit(JS_SPACE) })
      else if (e === 'D') toks.push({ k: 'unit', unit: { bare: `[^0-9${ASTRAL}]`, full: '\\D' } })
      else if (e === 'W') toks.push({ k: 'unit', unit: { bare: `[^0-9A-Za-z_${ASTRAL}]`, full: '\\W' } })
      else if (e === 'b' || e === 'B') toks.push({ k: 'zw', text })
      else toks.push({ k: 'atom', text })
    } else if (c === '[') {
      const k = klass()
      toks.push(typeof k === 'string' ? { k: 'atom', text: k } : { k: 'unit', unit: k })
    } else if (c === '(') {
      if (peek(1) === '?') {
        const kind = peek(2)
        if (kind === ':') i += 3
        else if (kind === '=' || kind === '!') throw new Refusal('lookahead (?= / (?! — RE2 has no lookaround')
        else if (kind === '<' && (peek(3) === '=' || peek(3) === '!'))
          throw new Refusal('lookbehind (?<= / (?<! — RE2 has no lookaround')
        else if (kind === '<') {
          while (i < cps.length && peek() !== '>') i++
          if (i >= cps.length) throw new Refusal('an unterminated group name')
          i++
        } else throw new Refusal(`the group syntax (?${kind}`)
      } else i++
      // Capturing groups become non-capturing: matching is unchanged and KQL limits group counts.
      toks.push({ k: 'open', text: '(?:' })
    } else if (c === ')') {
      toks.push({ k: 'close', text: ')' })
      i++
    } else if (c === '|') {
      toks.push({ k: 'alt', text: '|' })
      i++
    } else if (c === '.') {
      i++
      toks.push({
        k: 'unit',
        unit: flags.s ? { bare: '[\\x{0}-\\x{FFFF}]', full: '(?s:.)' } : negatedUnit('\\n\\r\\x{2028}\\x{2029}'),
      })
    } else if (c === '^' || c === '$') {
      if (flags.m)
        throw new Refusal(
          'multi-line anchors (flag m): JavaScript also breaks lines at \\r, U+2028 and U+2029, RE2 only at \\n',
        )
      toks.push({ k: 'anchor', text: c })
      i++
    } else if (c === '*' || c === '+' || c === '?') {
      i++
      quantify(c, c === '+' ? 1 : 0, c === '?' ? 1 : undefined)
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(String.fromCodePoint(...cps.slice(i, i + 24)))
      if (m) {
        const min = Number(m[1])
        const max = m[2] === undefined ? min : m[3] === '' ? undefined : Number(m[3])
        if (min > 1000 || (max !== undefined && max > 1000)) throw new Refusal("a repeat count over 1000 (RE2's limit)")
        i += m[0].length
        quantify(m[0], min, max)
      } else {
        toks.push({ k: 'atom', text: '\\{' })
        i++
      }
    } else {
      const cp = cps[i]!
      i++
      toks.push({ k: 'atom', text: re2Char(cp), ...(cp > 0xffff ? { astral: true } : {}) })
    }
  }
  return render(toks)

  /** An escape outside (inClass=false) or inside a class; `i` points at the backslash. */
  function escape(inClass: boolean): string {
    const e = peek(1)
    if (e === '') throw new Refusal('a trailing backslash')
    i += 2
    switch (e) {
      case 'd':
      case 'w':
        return '\\' + e
      case 'D':
      case 'W':
        return '' // the caller emits the unit forms
      case 's':
        return inClass ? JS_SPACE : `[${JS_SPACE}]`
      case 'S':
        if (inClass) throw new Refusal('\\S inside a character class')
        return '' // the caller emits the unit forms
      case 'b':
        return inClass ? hex(8) : '\\b'
      case 'B':
        return inClass ? re2ClassChar(0x42) : '\\B'
      case 't':
        return hex(9)
      case 'n':
        return hex(10)
      case 'v':
        return hex(11)
      case 'f':
        return hex(12)
      case 'r':
        return hex(13)
      case '0':
        if (/[0-9]/.test(peek())) throw new Refusal('an octal escape')
        return hex(0)
      case 'x': {
        const h = String.fromCodePoint(...cps.slice(i, i + 2))
        if (!/^[0-9a-fA-F]{2}$/.test(h)) return lit(0x78, inClass)
        i += 2
        return lit(parseInt(h, 16), inClass)
      }
      case 'u': {
        const h = String.fromCodePoint(...cps.slice(i, i + 4))
        if (!/^[0-9a-fA-F]{4}$/.test(h)) return lit(0x75, inClass)
        const cp = parseInt(h, 16)
        if (cp >= 0xd800 && cp <= 0xdfff) throw new Refusal('a surrogate escape \\u' + h)
        i += 4
        return lit(cp, inClass)
      }
      case 'c': {
        const l = peek()
        if (!/^[A-Za-z]$/.test(l)) throw new Refusal('the escape \\c without a letter')
        i++
        return lit(l.charCodeAt(0) % 32, inClass)
      }
      case 'k':
        throw new Refusal('a named backreference \\k<…> — RE2 has no backreferences')
      default:
        if (/[1-9]/.test(e)) throw new Refusal(`a backreference \\${e} — RE2 has no backreferences`)
        // Any other escaped character stands for itself (JavaScript's identity escapes).
        return lit(e.codePointAt(0)!, inClass)
    }
  }

  function lit(cp: number, inClass: boolean): string {
    return inClass ? re2ClassChar(cp) : re2Char(cp)
  }

  /** A character class; `i` points at `[`. JavaScript's `[]` matches nothing and `[^]` anything (a unit). */
  function klass(): string | Unit {
    i++
    let negate = false
    if (peek() === '^') {
      negate = true
      i++
    }
    if (peek() === ']') {
      i++
      return negate ? { bare: '[\\x{0}-\\x{FFFF}]', full: '(?s:.)' } : '[^\\x{0}-\\x{10FFFF}]'
    }
    let body = ''
    // Items: RE2 text, the code point it stands for (none for \d, \w, \s …), whether it is a bare `-`.
    const items: Array<{ t: string; cp: number | undefined; dash: boolean }> = []
    while (peek() !== ']') {
      if (peek() === '') throw new Refusal('an unterminated character class')
      if (peek() === '\\') {
        const e = peek(1)
        if (e === 'D' || e === 'W') throw new Refusal(`\\${e} inside a character class`)
        const before = i
        const t = escape(true)
        const cp = /^[dwsS]$/.test(e) ? undefined : codePointOfEscape(before)
        if (cp !== undefined && cp >= 0xd800 && cp <= 0xdfff)
          throw new Refusal('a surrogate code unit in a character class')
        items.push({ t, cp, dash: false })
      } else {
        const cp = cps[i]!
        if (cp > 0xffff)
          throw new Refusal(
            'a character outside the Basic Multilingual Plane inside a class (JavaScript reads it as two units)',
          )
        items.push({ t: re2ClassChar(cp), cp, dash: cp === 0x2d })
        i++
      }
    }
    i++
    // Ranges: `a-z`; a `-` next to a class escape or at an edge is literal (ECMA-262 Annex B).
    for (let k = 0; k < items.length; k++) {
      const a = items[k]!
      const dash = items[k + 1]
      const b = items[k + 2]
      if (a.cp !== undefined && dash?.dash && b && b.cp !== undefined) {
        if (b.cp < a.cp) throw new Refusal('a character class range out of order')
        if (a.cp <= 0xdfff && b.cp >= 0xd800) throw new Refusal('a character class range over the surrogate code units')
        body += `${a.t}-${b.t}`
        k += 2
      } else {
        body += a.t
      }
    }
    return negate ? negatedUnit(body) : `[${body}]`
  }

  /** The code point an escape at `start` stood for (the escape was already consumed). */
  function codePointOfEscape(start: number): number | undefined {
    const text = String.fromCodePoint(...cps.slice(start, i))
    const e = text[1]!
    const simple: Record<string, number> = { t: 9, n: 10, v: 11, f: 12, r: 13, b: 8, '0': 0 }
    if (simple[e] !== undefined) return simple[e]
    if (e === 'x' && text.length === 4) return parseInt(text.slice(2), 16)
    if (e === 'u' && text.length === 6) return parseInt(text.slice(2), 16)
    if (e === 'c') return text.charCodeAt(2) % 32
    return text.slice(1).codePointAt(0)
  }
}

/** A neighbour that ends or starts on a code point boundary for sure: a required atom or an anchor. */
const aligned = (t: Tok | undefined): boolean =>
  t !== undefined && ((t.k === 'atom' && (t.q === undefined || t.q.min >= 1)) || t.k === 'anchor')

/**
 * What a unit atom meets on one side, looking past optional atoms that match only BMP characters
 * (they cannot take half of an emoji, so they cannot move a split): an aligned atom, a free edge of
 * the pattern (start, end or a top-level `|`), or anything else.
 */
function side(toks: readonly Tok[], j: number, dir: 1 | -1, depth: number): 'aligned' | 'free' | 'other' {
  let k = j + dir
  while (k >= 0 && k < toks.length) {
    const t = toks[k]!
    if (t.k === 'atom' && t.q !== undefined && t.q.min === 0) k += dir
    else break
  }
  const t = toks[k]
  if (t === undefined || t.k === 'alt') return depth === 0 ? 'free' : 'other'
  return aligned(t) ? 'aligned' : 'other'
}

/**
 * Render tokens, choosing each unit atom's form. Repeated with `*`/`+`: the full form. Otherwise it
 * matches one JavaScript unit: at a free edge of the pattern (unanchored search) half an emoji is
 * as good as the whole one, so the full form; between two aligned neighbours a half cannot fit, so
 * the bare (BMP-only) form; anywhere else the two engines may differ and it is refused.
 */
function render(toks: readonly Tok[]): string {
  let depth = 0
  let out = ''
  for (const [j, t] of toks.entries()) {
    if (t.k === 'open') depth++
    if (t.k === 'close') depth--
    if (t.k !== 'unit') {
      out += t.text + (t.q?.text ?? '')
      continue
    }
    const prev = toks[j - 1]
    const next = toks[j + 1]
    if (prev?.k === 'unit' || next?.k === 'unit') {
      throw new Refusal(
        'two single-character wildcards (`.`, a negated class, \\S \\D \\W) side by side: JavaScript may split an emoji between them, RE2 cannot',
      )
    }
    const q = t.q
    const left = side(toks, j, -1, depth)
    const right = side(toks, j, 1, depth)
    const leftFree = left === 'free'
    const rightFree = right === 'free'
    const boundedRun = left !== 'other' && right !== 'other'
    if (q && q.max === undefined && q.min === 0) {
      // `*`: a run of any length can always end on a code point boundary.
      out += t.unit.full + q.text
      continue
    }
    if (q && q.max === undefined && q.min === 1) {
      // `+`: at least one unit; exact only where neither end can split an emoji.
      if (!boundedRun)
        throw new Refusal(
          '`.+` or a repeated negated class next to a group, an optional part or another wildcard: JavaScript may split an emoji there, RE2 cannot',
        )
      out += t.unit.full + q.text
      continue
    }
    if (q && !(q.max !== undefined && q.max <= 1)) {
      throw new Refusal(
        `the counted repeat ${q.text} of \`.\` or a negated class: JavaScript counts UTF-16 units, RE2 code points`,
      )
    }
    if ((leftFree && rightFree) || (leftFree && right === 'aligned') || (rightFree && left === 'aligned'))
      out += t.unit.full + (q?.text ?? '')
    else if (left === 'aligned' && right === 'aligned') out += t.unit.bare + (q?.text ?? '')
    else
      throw new Refusal(
        'a single `.` or negated class next to a group or an optional part: JavaScript may match half of an emoji there, RE2 cannot',
      )
  }
  return out
}
