/**
 * PCRE, as Splunk runs it, read into a JavaScript RegExp with the same meaning, for the SPL
 * verifier. Written from PCRE's documented syntax, independently of the backend's translator.
 *
 * Splunk's regexes are PCRE (https://help.splunk.com/splunk-enterprise/manage-knowledge-objects/knowledge-management-manual/9.1/get-started-with-knowledge-objects/about-splunk-regular-expressions),
 * taken here in UTF mode without Unicode properties [our reading: Splunk handles text as UTF-8]:
 * - `.` is any character but `\n` (unless `(?s)`); `\d \w \s \b` are ASCII; `\s` is [\t\n\v\f\r ];
 * - `$` matches at the end or before a final `\n`; `\z` only at the end; `\A` at the start;
 * - `(?i)` folds case by Unicode simple case folding (JavaScript's `iu` does the same);
 * - a backslash before a non-alphanumeric character makes it literal.
 * Anything outside this subset is reported as unsupported rather than guessed.
 */

import { withinBudget } from '../bounded-regex.js'
import { codePointAt, errorMessage, itemAt } from '../guards.js'

const WORD = 'A-Za-z0-9_'
const SPACE = '\\t\\n\\v\\f\\r '
const lit = (cp: number): string => `\\u{${cp.toString(16)}}`

/**
 * `test(s)`: does the pattern match somewhere in s (an unanchored search, as PCRE does);
 * `groups(s)`: the named groups of the first (leftmost) match, undefined when there is none;
 * `names`: the pattern's group names.
 */
export type PcreResult =
  | {
      readonly test: (s: string) => boolean
      readonly groups: (s: string) => Readonly<Record<string, string | undefined>> | undefined
      readonly names: readonly string[]
    }
  | { readonly unsupported: string }

const cache = new Map<string, PcreResult>()

/** Compile a PCRE pattern (as Splunk receives it, after string-literal decoding) into a RegExp. */
export function pcreToRegExp(pattern: string): PcreResult {
  let hit = cache.get(pattern)
  if (!hit) {
    hit = translate(pattern)
    cache.set(pattern, hit)
  }
  return hit
}

function translate(pattern: string): PcreResult {
  const chars = [...pattern]
  let i = 0
  const flags = { i: false, m: false, s: false }
  // Option settings at the very start, e.g. (?i) or (?ims).
  const lead = /^\(\?([ims]+)\)/.exec(pattern)
  if (lead) {
    for (const f of itemAt(lead, 1)) if (f === 'i' || f === 'm' || f === 's') flags[f] = true
    i = [...lead[0]].length
  }
  const no = (why: string): PcreResult => ({ unsupported: why })
  let out = ''
  const names: string[] = []

  /** An escape; inside a class \\D \\W \\S come back as the set a character must be outside of. */
  const escape = (inClass: boolean): string | { negated: string } | PcreResult => {
    const c = chars[i++]
    if (c === undefined) return no('a trailing backslash')
    switch (c) {
      case 'd':
        return inClass ? '0-9' : '[0-9]'
      case 'D':
        return inClass ? { negated: '0-9' } : '[^0-9]'
      case 'w':
        return inClass ? WORD : `[${WORD}]`
      case 'W':
        return inClass ? { negated: WORD } : `[^${WORD}]`
      case 's':
        return inClass ? SPACE : `[${SPACE}]`
      case 'S':
        return inClass ? { negated: SPACE } : `[^${SPACE}]`
      case 'b':
        return inClass ? lit(8) : `(?:(?<=[${WORD}])(?![${WORD}])|(?<![${WORD}])(?=[${WORD}]))`
      case 'B':
        return inClass ? no('\\B in a class') : `(?:(?<=[${WORD}])(?=[${WORD}])|(?<![${WORD}])(?![${WORD}]))`
      // JavaScript's own ^ and $ (no m flag) are exactly the start and the end of the subject.
      case 'A':
        return inClass ? no('\\A in a class') : '^'
      case 'z':
        return inClass ? no('\\z in a class') : '$'
      case 'Z':
        return inClass ? no('\\Z in a class') : '(?=\\n?$)'
      case 'n':
        return lit(10)
      case 'r':
        return lit(13)
      case 't':
        return lit(9)
      case 'f':
        return lit(12)
      case 'e':
        return lit(27)
      case 'a':
        return lit(7)
      case 'x': {
        const braced = /^\{([0-9a-fA-F]{1,6})\}/.exec(chars.slice(i, i + 8).join(''))
        if (braced) {
          i += braced[0].length
          return lit(parseInt(itemAt(braced, 1), 16))
        }
        const two = /^[0-9a-fA-F]{1,2}/.exec(chars.slice(i, i + 2).join(''))
        if (!two) return lit(0)
        i += two[0].length
        return lit(parseInt(two[0], 16))
      }
      default:
        if (/[A-Za-z0-9]/.test(c)) return no(`the escape \\${c}`)
        return lit(codePointAt(c, 0))
    }
  }

  while (i < chars.length) {
    const c = itemAt(chars, i++)
    if (c === '\\') {
      const e = escape(false)
      if (typeof e !== 'string') return 'negated' in e ? no('a class escape') : e
      out += e
    } else if (c === '.') {
      out += flags.s ? '[^]' : '[^\\n]'
    } else if (c === '^') {
      out += flags.m ? '(?:^|(?<=\\n))' : '^'
    } else if (c === '$') {
      out += flags.m ? '(?=\\n|$)' : '(?=\\n?$)'
    } else if (c === '[') {
      // A class is kept as the characters it lists (P) and the sets of \\D \\W \\S it includes
      // (N1…): a character is in it when it is in P or outside some Ni.
      let negate = false
      if (chars[i] === '^') {
        negate = true
        i++
      }
      let body = ''
      const outside: string[] = []
      // In PCRE a ']' right after '[' or '[^' is a literal.
      let first = true
      for (;;) {
        const d = chars[i++]
        if (d === undefined) return no('an unterminated class')
        if (d === ']' && !first) break
        first = false
        if (d === '\\') {
          const e = escape(true)
          if (typeof e === 'string') body += e
          else if ('negated' in e) outside.push(e.negated)
          else return e
        } else if (d === '[' && chars[i] === ':') {
          return no('a POSIX class')
        } else if (d === '-') {
          body += '-'
        } else {
          body += lit(codePointAt(d, 0))
        }
      }
      const parts = [...(body ? [`[${body}]`] : []), ...outside.map((n) => `[^${n}]`)]
      if (!negate) out += parts.length === 0 ? '(?!)' : parts.length === 1 ? itemAt(parts, 0) : `(?:${parts.join('|')})`
      else out += `(?:${body ? `(?![${body}])` : ''}${outside.map((n) => `(?=[${n}])`).join('')}[^])`
    } else if (c === '(') {
      const rest = chars.slice(i, i + 3).join('')
      const m = /^\?(:|=|!|<=|<!)/.exec(rest)
      if (m) {
        i += m[0].length
        out += '(' + m[0]
      } else if (chars[i] === '?') {
        const named = /^\?P?<([A-Za-z_][A-Za-z0-9_]*)>/.exec(chars.slice(i, i + 40).join(''))
        const name = named?.[1]
        if (!named || name === undefined) return no('this group syntax')
        i += named[0].length
        names.push(name)
        out += `(?<${name}>`
      } else {
        out += '('
      }
    } else if (c === ')' || c === '|') {
      out += c
    } else if (c === '*' || c === '+' || c === '?') {
      out += c
      if (chars[i] === '+') return no('a possessive quantifier')
      if (chars[i] === '?') out += chars[i++]
    } else if (c === '{') {
      const q = /^\{\d+(,\d*)?\}/.exec(c + chars.slice(i, i + 24).join(''))
      if (q) {
        out += q[0]
        i += q[0].length - 1
        if (chars[i] === '+') return no('a possessive quantifier')
        if (chars[i] === '?') out += chars[i++]
      } else {
        out += lit(0x7b)
      }
    } else if (/[A-Za-z0-9]/.test(c)) {
      out += c
    } else {
      out += lit(codePointAt(c, 0))
    }
  }
  try {
    const re = new RegExp(out, flags.i ? 'iuy' : 'uy')
    // PCRE tries a match at each character; JavaScript's own search may also try the middle of a
    // surrogate pair, where lookbehinds misread. So the start positions are walked by code point.
    // PCRE backtracks (Splunk bounds it by match_limit); here the whole search runs under a time
    // budget whose end is a RegexBudgetError (src/bounded-regex.ts), reported by the verifier.
    const search = (s: string): RegExpExecArray | null => {
      for (let at = 0; at <= s.length; at += (s.codePointAt(at) ?? 0) > 0xffff ? 2 : 1) {
        re.lastIndex = at
        const m = re.exec(s)
        if (m) return m
      }
      return null
    }
    const test = (s: string): boolean => withinBudget(() => search(s) !== null, pattern)
    const groups = (s: string) => {
      const m = withinBudget(() => search(s), pattern)
      return m ? { ...m.groups } : undefined
    }
    return { test, groups, names }
  } catch (e) {
    return no(`a pattern JavaScript cannot run: ${errorMessage(e)}`)
  }
}
