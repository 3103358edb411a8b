/**
 * RE2, the regex dialect of KQL's `matches regex` (https://learn.microsoft.com/kusto/query/re2):
 * literals, and the printer of a Sigma regex (JavaScript, no `u` flag) where both engines agree.
 */
import { printing, quantifierText, unsupported, type Printed, type RegexNode, type SigmaRegex } from './ast.js'
import { unitForms } from './units.js'
import { caseClosedRuns, caseOrbit, printRuns, runsOf } from './case.js'
import { codePointAt, must } from '../guards.js'

/** Characters RE2 treats as syntax outside a class: escaped when literal. */
const RE2_SPECIAL = new Set('\\.+*?()|[]{}^$')
/** Inside a class. */
const RE2_CLASS_SPECIAL = new Set('\\]-[^')

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
  for (const ch of text) out += re2Char(codePointAt(ch, 0))
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

/** A unit atom's two forms: `bmp` leaves out astral characters, `full` matches any character. */
interface UnitText {
  readonly bmp: string
  readonly full: string
}

const negatedUnit = (body: string): UnitText => ({ bmp: `[^${body}${ASTRAL}]`, full: `[^${body}]` })
const ANY_UNIT: UnitText = { bmp: '[\\x{0}-\\x{FFFF}]', full: '(?s:.)' }
const UNITS: Readonly<Record<'D' | 'W' | 'S', UnitText>> = {
  D: { bmp: `[^0-9${ASTRAL}]`, full: '\\D' },
  W: { bmp: `[^0-9A-Za-z_${ASTRAL}]`, full: '\\W' },
  S: negatedUnit(JS_SPACE),
}
/** RE2's limit on a repeat count (https://github.com/google/re2/wiki/Syntax). */
const MAX_REPEAT = 1000

/** The longest spelled-out counted repeat (countedUnits): beyond it the regex is refused. */
const MAX_COUNTED_TEXT = 6000

/**
 * `U{m,n}` of a unit U between two character boundaries, as JavaScript (no `u`) matches it: m..n
 * UTF-16 code units, where a character outside the BMP is two units (U takes each half: `.`, a
 * negated class without surrogates, \S \D \W all take both). RE2 counts characters, so the run
 * is spelt out as the sequences of `bmp` (one unit: U's BMP form) and `[astral]` (two units) whose
 * length is m..n, nested: W(lo, hi) = (?:bmp W(lo-1, hi-1) | astral W(lo-2, hi-2)), optional when
 * lo <= 0. Its size grows as the Fibonacci numbers: long counts are refused.
 */
function countedUnits(n: Extract<RegexNode, { kind: 'repeat' }>, bmp: string): string {
  const max = must(n.max, 'a counted unit repeat has an upper bound (units.ts)')
  const astral = `[${ASTRAL}]`
  const memo = new Map<string, string | null>()
  const w = (lo: number, hi: number): string | null => {
    const key = `${Math.max(lo, 0)},${hi}`
    const known = memo.get(key)
    if (known !== undefined) return known
    let out: string | null
    if (hi < 0) out = null
    else if (hi === 0) out = lo <= 0 ? '' : null
    else {
      const one = w(lo - 1, hi - 1)
      const two = w(lo - 2, hi - 2)
      const parts = [...(one === null ? [] : [bmp + one]), ...(two === null ? [] : [astral + two])]
      if (parts.length === 0) out = lo <= 0 ? '' : null
      else out = `(?:${parts.join('|')})${lo <= 0 ? '?' : ''}`
    }
    if (out !== null && out.length > MAX_COUNTED_TEXT)
      unsupported(
        'a counted repeat of a single-character wildcard',
        `the counted repeat of \`.\` or a negated class: JavaScript counts UTF-16 units, RE2 characters, and spelling {${n.min},${max}} out in characters is too long`,
        n,
      )
    memo.set(key, out)
    return out
  }
  const text = w(n.min, max)
  return text ?? '[^\\x{0}-\\x{10FFFF}]'
}

/**
 * A Sigma regex as an RE2 pattern with the same matches, or the construct RE2 cannot express:
 * lookaround and backreferences (RE2 has neither), `m` with anchors (JavaScript also breaks lines
 * at `\r`, U+2028 and U+2029, RE2 only at `\n`), `\S \D \W` inside a class, repeat counts over
 * 1000, a quantifier on a character outside the BMP (JavaScript repeats only its low surrogate).
 * Capturing groups become non-capturing (KQL limits group counts). The `i` flag is spelt out:
 * each letter becomes the class of the characters JavaScript takes as equal to it, because RE2's
 * `(?i)` folds by Unicode case folding and so also matches the Kelvin sign for `k`, `ſ` for `s`,
 * `ẞ` for `ß`, `Ω` for `ω`, … (and `(?i)\w` matches them too) where JavaScript does not.
 */
export function toRe2(regex: SigmaRegex): Printed {
  return printing(() => {
    const forms = unitForms(regex.root, regex.flags, 'RE2', { counted: true })
    const unit = (n: RegexNode, t: UnitText): string => (forms.get(n) === 'full' ? t.full : t.bmp)
    const print = (n: RegexNode): string => {
      switch (n.kind) {
        case 'alt':
          return n.items.map(print).join('|')
        case 'seq':
          return n.items.map(print).join('')
        case 'char': {
          const same = regex.flags.i && n.cp <= 0xffff ? caseOrbit(n.cp) : [n.cp]
          return same.length === 1 ? re2Char(n.cp) : `[${runsOf(same, re2ClassChar)}]`
        }
        case 'anchor':
          if (regex.flags.m)
            unsupported(
              'an anchor with the m flag',
              'JavaScript also breaks lines at \\r, U+2028 and U+2029, RE2 only at \\n',
              n,
            )
          return n.at === 'start' ? '^' : '$'
        case 'boundary':
          return n.negated ? '\\B' : '\\b'
        case 'backref':
          return unsupported('a backreference', 'RE2 has no backreferences', n)
        case 'look':
          return unsupported(n.behind ? 'a lookbehind' : 'a lookahead', 'RE2 has no lookaround', n)
        case 'group':
          return `(?:${print(n.body)})`
        case 'repeat': {
          if (n.body.kind === 'char' && n.body.cp > 0xffff)
            unsupported(
              'a quantifier on a character outside the Basic Multilingual Plane',
              'JavaScript repeats only its second code unit',
              n,
            )
          if (n.min > MAX_REPEAT || (n.max !== undefined && n.max > MAX_REPEAT))
            unsupported('a repeat count over 1000', "RE2's limit", n)
          if (forms.get(n.body) === 'counted') return countedUnits(n, print(n.body))
          return print(n.body) + quantifierText(n, regex.source)
        }
        case 'dot':
          return unit(n, regex.flags.s ? ANY_UNIT : negatedUnit('\\n\\r\\x{2028}\\x{2029}'))
        case 'set':
          if (n.set === 'd' || n.set === 'w') return '\\' + n.set
          if (n.set === 's') return `[${JS_SPACE}]`
          return unit(n, UNITS[n.set])
        case 'class': {
          if (n.items.length === 0) return n.negated ? unit(n, ANY_UNIT) : '[^\\x{0}-\\x{10FFFF}]'
          if (regex.flags.i) return caseClosedClass(n)
          let body = ''
          for (const it of n.items) {
            if (it.kind === 'set') {
              if (it.set === 'D' || it.set === 'W' || it.set === 'S')
                unsupported(`\\${it.set} inside a character class`, 'RE2 cannot subtract it inside one class', n)
              body += it.set === 's' ? JS_SPACE : '\\' + it.set
            } else if (it.kind === 'range') {
              if (it.from <= 0xdfff && it.to >= 0xd800)
                unsupported('a character class range over the surrogate code units', 'RE2 has no surrogates', n)
              body += `${re2ClassChar(it.from)}-${re2ClassChar(it.to)}`
            } else body += re2ClassChar(it.cp)
          }
          return n.negated ? unit(n, negatedUnit(body)) : `[${body}]`
        }
      }
    }
    /** A class with every member's case orbit added, written as sorted runs (the i flag). */
    const caseClosedClass = (n: Extract<RegexNode, { kind: 'class' }>): string => {
      const members: Array<readonly [number, number]> = []
      let sets = ''
      for (const it of n.items) {
        if (it.kind === 'set') {
          if (it.set === 'D' || it.set === 'W' || it.set === 'S')
            unsupported(`\\${it.set} inside a character class`, 'RE2 cannot subtract it inside one class', n)
          sets += it.set === 's' ? JS_SPACE : '\\' + it.set
        } else if (it.kind === 'range') {
          if (it.from <= 0xdfff && it.to >= 0xd800)
            unsupported('a character class range over the surrogate code units', 'RE2 has no surrogates', n)
          members.push([it.from, it.to])
        } else members.push([it.cp, it.cp])
      }
      const body = printRuns(caseClosedRuns(members), re2ClassChar) + sets
      return n.negated ? unit(n, negatedUnit(body)) : `[${body}]`
    }
    return print(regex.root)
  })
}
