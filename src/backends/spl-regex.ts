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
const JS_SPACE = '\\t\\n\\x{0b}\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}'
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

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = { n: '\\n', r: '\\r', t: '\\t', f: '\\f', v: '\\x{0b}' }

/**
 * A Sigma regular expression (JavaScript syntax and meaning, searched unanchored) as PCRE with the
 * same meaning, or the reason it cannot be.
 */
export function sigmaRegexToPcre(source: string, flags: RegexFlags): RegexResult {
  const chars = [...source]
  let i = 0
  let out = flags.i ? '(?i)' : ''
  /** Depth of lookbehind groups we are in, and the group stack ('lb' marks a lookbehind). */
  const groups: string[] = []
  const inLookbehind = (): boolean => groups.includes('lb')
  const refuse = (why: string): RegexResult => ({ refused: why })

  /** An escape after `\` (at chars[i]); returns the PCRE text, or a refusal. */
  const escape = (inClass: boolean): string | RegexResult => {
    const c = chars[i++]
    if (c === undefined) return refuse('a trailing backslash')
    if ('dDwW'.includes(c)) return '\\' + c
    if (c === 's') return inClass ? JS_SPACE : `[${JS_SPACE}]`
    if (c === 'S') return inClass ? refuse('\\S inside a character class') : `[^${JS_SPACE}]`
    if (c === 'b') return inClass ? hex(8) : '\\b'
    if (c === 'B') return inClass ? refuse('\\B inside a character class') : '\\B'
    if (SIMPLE_ESCAPES[c]) return SIMPLE_ESCAPES[c]!
    if (c === '0') return /[0-9]/.test(chars[i] ?? '') ? refuse('an octal escape') : hex(0)
    if (c === 'x') {
      const h = chars.slice(i, i + 2).join('')
      if (!/^[0-9a-fA-F]{2}$/.test(h)) return refuse('\\x without two hex digits')
      i += 2
      return hex(parseInt(h, 16))
    }
    if (c === 'u') {
      const h = chars.slice(i, i + 4).join('')
      if (!/^[0-9a-fA-F]{4}$/.test(h)) return refuse('\\u without four hex digits')
      const cp = parseInt(h, 16)
      if (cp >= 0xd800 && cp <= 0xdfff) return refuse('a surrogate escape (\\uD800-\\uDFFF)')
      i += 4
      return hex(cp)
    }
    if (c === 'c') {
      const l = chars[i]
      if (!l || !/[A-Za-z]/.test(l)) return refuse('\\c without a letter')
      i++
      return hex(l.toUpperCase().charCodeAt(0) % 32)
    }
    if (/[1-9]/.test(c) || c === 'k') return refuse('a backreference')
    if (/[A-Za-z0-9]/.test(c)) return refuse(`the escape \\${c}, which PCRE reads differently`)
    if (c.codePointAt(0)! > 0xffff) return refuse('a character outside the Basic Multilingual Plane')
    return pcreLiteral(c)
  }

  while (i < chars.length) {
    const c = chars[i++]!
    if (c.codePointAt(0)! > 0xffff) return refuse('a character outside the Basic Multilingual Plane (JavaScript counts it as two)')
    if (c === '\\') {
      const e = escape(false)
      if (typeof e !== 'string') return e
      out += e
    } else if (c === '.') {
      out += flags.s ? '[\\s\\S]' : `[^${JS_EOL}]`
    } else if (c === '^') {
      out += flags.m ? `(?<![^${JS_EOL}])` : '^'
    } else if (c === '$') {
      out += flags.m ? `(?![^${JS_EOL}])` : '\\z'
    } else if (c === '[') {
      const cls = characterClass()
      if (typeof cls !== 'string') return cls
      out += cls
    } else if (c === '(') {
      if (inLookbehind()) return refuse('a group inside a lookbehind')
      if (chars[i] !== '?') {
        groups.push('(')
        out += '('
        continue
      }
      const rest = chars.slice(i, i + 3).join('')
      const m = /^\?(:|=|!|<=|<!)/.exec(rest)
      if (m) {
        i += m[0].length
        groups.push(m[1] === '<=' || m[1] === '<!' ? 'lb' : '(')
        out += '(' + m[0]
        continue
      }
      const named = /^\?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(chars.slice(i).join(''))
      if (!named) return refuse('a group syntax other than (…), (?:…), lookaround or (?<name>…)')
      i += named[0].length
      groups.push('(')
      out += '(' + named[0]
    } else if (c === ')') {
      groups.pop()
      out += ')'
    } else if (c === '|') {
      if (inLookbehind() && groups[groups.length - 1] !== 'lb') return refuse('an alternation nested inside a lookbehind')
      out += '|'
    } else if (c === '*' || c === '+' || c === '?') {
      if (inLookbehind()) return refuse('a quantifier inside a lookbehind (PCRE needs a fixed length)')
      out += c
      if (chars[i] === '?') out += chars[i++]
    } else if (c === '{') {
      const q = /^\{\d+(,\d*)?\}/.exec(c + chars.slice(i, i + 24).join(''))
      if (q) {
        if (inLookbehind() && q[1] !== undefined) return refuse('a quantifier inside a lookbehind (PCRE needs a fixed length)')
        out += q[0]
        i += q[0].length - 1
        if (chars[i] === '?') out += chars[i++]
      } else {
        out += '\\{'
      }
    } else {
      out += pcreLiteral(c)
    }
  }
  return { pcre: out }

  /** A JavaScript character class (after `[`) as a PCRE class. */
  function characterClass(): string | RegexResult {
    let negate = false
    if (chars[i] === '^') {
      negate = true
      i++
    }
    type Item = { kind: 'char'; text: string } | { kind: 'set'; text: string } | { kind: 'dash' }
    const items: Item[] = []
    for (;;) {
      const c = chars[i++]
      if (c === undefined) return refuse('an unterminated character class')
      if (c === ']') break
      if (c.codePointAt(0)! > 0xffff) return refuse('a character outside the Basic Multilingual Plane in a class')
      if (c === '\\') {
        const letter = chars[i]
        const e = escape(true)
        if (typeof e !== 'string') return e
        items.push(letter !== undefined && 'dDwWs'.includes(letter) ? { kind: 'set', text: e } : { kind: 'char', text: e })
      } else if (c === '-') {
        items.push({ kind: 'dash' })
      } else {
        items.push({ kind: 'char', text: pcreLiteral(c) })
      }
    }
    if (items.length === 0) return negate ? '[\\s\\S]' : '(?!)'
    // A '-' makes a range only between two single characters; anywhere else JavaScript reads it
    // literally, so it is escaped for PCRE (which rejects ranges such as [\d-z]).
    let body = ''
    for (let k = 0; k < items.length; ) {
      const it = items[k]!
      const dash = items[k + 1]
      const end = items[k + 2]
      if (it.kind === 'char' && dash?.kind === 'dash' && end?.kind === 'char') {
        body += `${it.text}-${end.text}`
        k += 3
      } else {
        body += it.kind === 'dash' ? '\\-' : it.text
        k += 1
      }
    }
    return `[${negate ? '^' : ''}${body}]`
  }
}
