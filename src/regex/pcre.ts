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
import type { Pattern } from '../ast/nodes.js'
import { normalize } from '../ast/pattern.js'
import { printing, quantifierText, unsupported, type Printed, type RegexNode, type SigmaRegex } from './ast.js'
import { unitForms } from './units.js'
import { caseClosedRuns, caseOrbit, mergeRuns, printRuns, runsOf } from './case.js'
import { codePointAt, first, itemAt, must } from '../guards.js'

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
  const cp = codePointAt(ch, 0)
  return cp < 0x80 ? itemAt(ASCII_LITERAL, cp) : ch
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
 * literal; unless `cased`, each ASCII letter as the class of its two cases (`[Aa]`). Not `(?i)`:
 * in UTF mode PCRE folds beyond ASCII (the Kelvin sign with `k`, `ſ` with `s`), and Sigma's value
 * folding is ASCII-only (docs/semantics.md, "Case folding"). `\z` (not `$`) anchors the end: PCRE's `$` also matches before
 * a final newline.
 *
 * Emitted: `^[Cc]:\\[Ww]indows\\[\s\S]*\.[Ee][Xx][Ee]\z` for `C:\Windows\*.exe`.
 */
export function patternToPcre(pattern: Pattern, cased: boolean): string {
  return patternsToPcre([pattern], cased)
}

/** An ASCII letter as `[Aa]`, any other character as its literal. */
const asciiCaseClass = (ch: string): string =>
  /^[A-Za-z]$/.test(ch) ? `[${ch.toUpperCase()}${ch.toLowerCase()}]` : pcreLiteral(ch)

/**
 * Several value patterns on one field as one anchored PCRE alternation: a value matches when it
 * matches any of them. Emitted: `^(?:[\s\S]*\\[Aa]\.[Ee][Xx][Ee]|[\s\S]*\\[Bb]\.[Ee][Xx][Ee])\z`.
 */
export function patternsToPcre(patterns: readonly Pattern[], cased: boolean): string {
  const body = (pattern: Pattern): string => {
    let out = ''
    for (const s of normalize(pattern)) {
      if (s.kind === 'any') out += '[\\s\\S]*'
      else if (s.kind === 'one') out += '[\\s\\S]'
      else for (const ch of s.text) out += cased ? pcreLiteral(ch) : asciiCaseClass(ch)
    }
    return out
  }
  const bodies = patterns.map(body)
  const alt = bodies.length === 1 ? first(bodies) : `(?:${bodies.join('|')})`
  return `^${alt}\\z`
}

/** Every code point outside the Basic Multilingual Plane: two UTF-16 units for JavaScript. */
const ASTRAL = '\\x{10000}-\\x{10ffff}'
const SET_BODY: Readonly<Record<string, string>> = { d: '0-9', w: 'A-Za-z0-9_', s: JS_SPACE }

/**
 * A Sigma regular expression (JavaScript syntax and meaning, no `u` flag, searched unanchored) as
 * PCRE with the same matches, or the construct it cannot express. Flags are spelt out: `.` as a
 * class (`s`), `^`/`$` as lookarounds on JavaScript's line terminators (`m`), each letter as the
 * class of the characters JavaScript's `i` takes as equal (PCRE's `(?i)` folds more).
 */
export function toPcre(regex: SigmaRegex): Printed {
  return printing(() => new PcrePrinter(regex).print())
}

class PcrePrinter {
  private readonly forms
  constructor(private readonly regex: SigmaRegex) {
    this.forms = unitForms(regex.root, regex.flags, 'PCRE')
  }

  print(): string {
    return this.node(this.regex.root, false)
  }

  /** `inBehind`: inside a lookbehind, where PCRE needs every alternative of a fixed length. */
  private node(n: RegexNode, inBehind: boolean): string {
    const { flags } = this.regex
    switch (n.kind) {
      case 'alt':
        return n.items.map((x) => this.node(x, inBehind)).join('|')
      case 'seq':
        return n.items.map((x) => this.node(x, inBehind)).join('')
      case 'char':
        return this.letter(n.cp, n)
      case 'anchor':
        // PCRE's `$` also matches before a final newline; `\z` is the end only.
        if (n.at === 'start') return flags.m ? `(?<![^${JS_EOL}])` : '^'
        return flags.m ? `(?![^${JS_EOL}])` : '\\z'
      case 'boundary':
        return n.negated ? '\\B' : '\\b'
      case 'backref':
        return unsupported('a backreference', 'backreferences are refused on every target', n)
      case 'group':
      case 'look': {
        if (inBehind) unsupported('a group inside a lookbehind', 'PCRE needs a lookbehind of fixed length', n)
        const open =
          n.kind === 'look'
            ? `(?${n.behind ? '<' : ''}${n.negated ? '!' : '='}`
            : n.name !== undefined
              ? `(?<${n.name}>`
              : n.capture
                ? '('
                : '(?:'
        const behind = n.kind === 'look' && n.behind
        return `${open}${this.node(n.body, behind)})`
      }
      case 'repeat': {
        if (inBehind && n.max !== n.min)
          unsupported('a quantifier inside a lookbehind', 'PCRE needs a lookbehind of fixed length', n)
        return this.node(n.body, inBehind) + quantifierText(n, this.regex.source)
      }
      case 'dot':
        return this.unit(n, flags.s ? '[\\s\\S]' : `[^${JS_EOL}]`)
      case 'set':
        if (n.set === 'd') return '\\d'
        if (n.set === 'w') return '\\w'
        if (n.set === 's') return `[${JS_SPACE}]`
        return this.unit(n, `[^${must(SET_BODY[n.set.toLowerCase()], 'a set name: d, w or s')}]`)
      case 'class':
        return this.characterClass(n)
    }
  }

  private unit(n: RegexNode, text: string): string {
    return this.forms.get(n) === 'bmp' ? withoutAstral(text) : text
  }

  private literal(cp: number, at: RegexNode | undefined): string {
    if (cp > 0xffff)
      unsupported(
        'a character outside the Basic Multilingual Plane',
        'JavaScript counts it as two code units, PCRE as one character',
        at,
      )
    return pcreLiteral(String.fromCodePoint(cp))
  }

  /** A literal character; with the i flag, the class of the characters JavaScript takes as equal. */
  private letter(cp: number, at?: RegexNode): string {
    if (!this.regex.flags.i || cp > 0xffff) return this.literal(cp, at)
    const same = caseOrbit(cp)
    return same.length === 1 ? this.literal(cp, at) : `[${classBody(same)}]`
  }

  private characterClass(n: Extract<RegexNode, { kind: 'class' }>): string {
    // JavaScript: `[]` matches nothing, `[^]` any code unit.
    if (n.items.length === 0) return n.negated ? this.unit(n, '[\\s\\S]') : '(?!)'
    let sets = ''
    const outside: string[] = []
    const members: Array<readonly [number, number]> = []
    for (const it of n.items) {
      if (it.kind === 'range') {
        if (it.from <= 0xdfff && it.to >= 0xd800)
          unsupported('a character class range over the surrogate code units', 'PCRE has no surrogates', n)
        if (it.to > 0xffff)
          unsupported(
            'a character outside the Basic Multilingual Plane in a class',
            'JavaScript reads it as two units',
            n,
          )
        members.push([it.from, it.to])
      } else if (it.kind === 'char') {
        if (it.cp > 0xffff)
          unsupported(
            'a character outside the Basic Multilingual Plane in a class',
            'JavaScript reads it as two units',
            n,
          )
        members.push([it.cp, it.cp])
      } else if (/[DWS]/.test(it.set)) outside.push(must(SET_BODY[it.set.toLowerCase()], 'a set name: d, w or s'))
      else sets += must(SET_BODY[it.set], 'a set name: d, w or s')
    }
    // With the i flag a class holds every character JavaScript takes as equal to a member
    // (\d \w \s and their negations are closed already: ASCII letters only pair with ASCII).
    const closed = this.regex.flags.i ? caseClosedRuns(members) : mergeRuns(members)
    const body = printRuns(closed, (cp) => pcreLiteral(String.fromCharCode(cp))) + sets
    if (outside.length === 0 && !n.negated) return `[${body}]`
    // Holds \S \D \W, or is negated: it also matches surrogate code units, i.e. half an emoji.
    if (n.negated && outside.length === 0) return this.unit(n, `[^${body}]`)
    if (n.negated)
      unsupported('a negated class holding \\S, \\D or \\W', 'PCRE cannot subtract those sets inside one class', n)
    return this.unit(n, `(?:${[...(body ? [`[${body}]`] : []), ...outside.map((x) => `[^${x}]`)].join('|')})`)
  }
}

/** Code points as the inside of a PCRE class, runs written as ranges. */
const classBody = (cps: readonly number[]): string => runsOf(cps, (cp) => pcreLiteral(String.fromCharCode(cp)))

/** A unit that leaves out characters outside the BMP. */
function withoutAstral(unit: string): string {
  if (unit === '[\\s\\S]') return `[^${ASTRAL}]`
  if (unit.startsWith('[^') && unit.endsWith(']')) return `${unit.slice(0, -1)}${ASTRAL}]`
  return `(?![${ASTRAL}])${unit}`
}
