/**
 * The SQLite dialect osquery runs, as data and small lowering helpers: string literals, LIKE and
 * GLOB patterns, case folding beyond ASCII, and the subset of JavaScript regular expressions that
 * osquery's `regex_match` (C++ std::regex, ECMAScript grammar, on bytes) reads the same way.
 */
import type { Pattern } from '../ast/nodes.js'

/**
 * A SQL string literal: single quotes, a quote doubled, backslash an ordinary character.
 * https://sqlite.org/lang_expr.html#literal_values_constants_
 */
export const sqlString = (text: string): string => `'${text.replace(/'/g, "''")}'`

/**
 * Text SQLite cannot carry in a literal the way JavaScript holds it: NUL ends a C string in
 * sqlite3_prepare, and a lone surrogate has no UTF-8 form. Returns what is wrong, or undefined.
 */
export function literalProblem(text: string): string | undefined {
  if (text.includes('\u0000')) return 'a NUL character'
  if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text))
    return 'a lone UTF-16 surrogate'
  return undefined
}

/**
 * LIKE: `%` any run, `_` exactly one character, ASCII letters fold, everything else exact; the
 * ESCAPE character makes the next `%`, `_` or itself literal. The ESCAPE clause is added only when
 * the text holds a `%` or `_` (then every backslash is doubled); without it a backslash is an
 * ordinary character, so Windows paths stay readable.
 * https://sqlite.org/lang_expr.html#the_like_glob_regexp_match_and_extract_operators
 */
export function likePattern(pattern: Pattern): { text: string; escape: boolean } {
  const escape = pattern.some((s) => s.kind === 'lit' && /[%_]/.test(s.text))
  const text = pattern
    .map((s) => (s.kind === 'any' ? '%' : s.kind === 'one' ? '_' : escape ? s.text.replace(/[%_\\]/g, '\\$&') : s.text))
    .join('')
  return { text, escape }
}

/**
 * GLOB: `*`, `?`, `[...]`; always case-sensitive, no ESCAPE clause: a literal `*`, `?` or `[` is
 * written as a one-character class. https://sqlite.org/lang_expr.html#glob
 */
export function globPattern(pattern: Pattern): string {
  return pattern
    .map((s) => (s.kind === 'any' ? '*' : s.kind === 'one' ? '?' : s.text.replace(/[*?[]/g, '[$&]')))
    .join('')
}

/**
 * Characters whose lower case JavaScript derives from context or spreads over two characters
 * (final sigma; dotted capital I and the combining dot it lowers to): no per-character replacement
 * in SQL reproduces `toLowerCase()` for them.
 */
export const UNFOLDABLE = /[\u03A3\u03C2\u03C3\u0130\u0307]/

let lowerOf: Map<string, string[]> | undefined

/**
 * The other characters whose `toLowerCase()` is `c` (for `é`: `É`). Computed once, on first need,
 * from the running JavaScript engine: the same Unicode tables the reference evaluator uses.
 */
export function upperVariants(c: string): readonly string[] {
  if (!lowerOf) {
    lowerOf = new Map()
    for (let cp = 0x80; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue
      const x = String.fromCodePoint(cp)
      const l = x.toLowerCase()
      if (l === x || [...l].length !== 1) continue
      const list = lowerOf.get(l)
      if (list) list.push(x)
      else lowerOf.set(l, [x])
    }
  }
  return lowerOf.get(c) ?? []
}

/** `[a-z]` → also upper case letters; a regex letter outside a class → `[Aa]` (for the `i` flag). */
function otherCase(c: string): string {
  const lower = c.toLowerCase()
  return lower === c ? c.toUpperCase() : lower
}

const isAsciiLetter = (c: string): boolean => /^[A-Za-z]$/.test(c)

/** osquery's hidden flag --regex_max_size: longer patterns are an error. */
export const REGEX_MAX_BYTES = 256

/**
 * A Sigma regex (JavaScript, unanchored search) as a pattern osquery's `regex_match` reads the
 * same way on every value, or the reason it cannot be. std::regex's ECMAScript grammar works on
 * bytes, has no flags, no lookbehind, named groups or `\p{…}`, and its `\s` is ASCII white space
 * while JavaScript's is Unicode. So: the pattern must be ASCII; `.`, `[^…]`, `\W`, `\D` (which could
 * meet one character of several bytes) may only repeat without bound (`*`, `+`); `i` becomes
 * letter classes; `m` is refused when the pattern has anchors and `s` when it has a dot.
 * https://osquery.io/schema/ (regex_match), https://en.cppreference.com/w/cpp/regex/ecmascript
 */
export function lowerRegex(
  source: string,
  flags: { i: boolean; m: boolean; s: boolean },
): { source: string } | { problem: string } {
  let out = ''
  let i = 0
  const problem = (p: string) => ({ problem: p })
  // After an atom that may consume part of a multi-byte character, only an unbounded repeat is exact.
  const unboundedNext = (at: number): boolean => /^(\*|\+|\{[01],\})/.test(source.slice(at))
  while (i < source.length) {
    const c = source[i]!
    if (c.charCodeAt(0) >= 0x80)
      return problem(`the non-ASCII character '${c}' (std::regex matches bytes, not characters)`)
    if (c === '\\') {
      const d = source[i + 1]
      if (d === undefined) return problem('a trailing backslash')
      if (d === 's' || d === 'S')
        return problem(`'\\${d}' (std::regex's white space is ASCII only, Sigma's is Unicode)`)
      if (d === 'p' || d === 'P') return problem(`'\\${d}{…}' Unicode properties`)
      if (d === 'k') return problem('a named back-reference')
      if (d === 'u' || d === 'x') {
        const hex =
          d === 'u' ? /^[0-9A-Fa-f]{4}/.exec(source.slice(i + 2)) : /^[0-9A-Fa-f]{2}/.exec(source.slice(i + 2))
        if (!hex) return problem(`'\\${d}' without its hex digits`)
        if (parseInt(hex[0], 16) >= 0x80) return problem(`the escape '\\${d}${hex[0]}' of a non-ASCII character`)
        if (flags.i && isAsciiLetter(String.fromCharCode(parseInt(hex[0], 16))))
          return problem(`the escape '\\${d}${hex[0]}' of a letter with the i flag`)
        out += source.slice(i, i + 2 + hex[0].length)
        i += 2 + hex[0].length
        continue
      }
      if (/[0-9]/.test(d) && d !== '0' && flags.i) return problem('a back-reference with the i flag')
      if (d === 'c') {
        out += source.slice(i, i + 3)
        i += 3
        continue
      }
      const wide = d === 'W' || d === 'D'
      if (wide && !unboundedNext(i + 2))
        return problem(`'\\${d}' without '*' or '+' (std::regex could match one byte of a multi-byte character)`)
      out += flags.i && isAsciiLetter(d) && !/[bBdDwWnrtfvc0-9]/.test(d) ? `[${d}${otherCase(d)}]` : `\\${d}`
      i += 2
      continue
    }
    if (c === '[') {
      const end = classEnd(source, i)
      if (end < 0) return problem('an unclosed character class')
      const body = source.slice(i + 1, end)
      const negated = body.startsWith('^')
      const inner = negated ? body.slice(1) : body
      if (inner === '') return problem(`the empty class '[${body}]' (JavaScript-only)`)
      if (/\\[sS]/.test(inner)) return problem(`'\\s' in a class (std::regex's white space is ASCII only)`)
      if (/\\[pPk]/.test(inner)) return problem('a Unicode property in a class')
      for (const ch of inner) if (ch.charCodeAt(0) >= 0x80) return problem(`the non-ASCII character '${ch}' in a class`)
      if (/\\[ux]/.test(inner)) return problem('a hex escape in a class')
      if (/\[[:=.]/.test(inner))
        return problem(`a POSIX class or collating element in '[${body}]' (std::regex reads it, JavaScript does not)`)
      if (flags.i && /\\.-|-\\/.test(inner)) return problem('a range bounded by an escape with the i flag')
      const wide = negated || /\\[WD]/.test(inner)
      if (wide && !unboundedNext(end + 1))
        return problem(`'[${body}]' without '*' or '+' (std::regex could match one byte of a multi-byte character)`)
      out += '[' + (negated ? '^' : '') + (flags.i ? foldClass(inner) : inner) + ']'
      i = end + 1
      continue
    }
    if (c === '.') {
      if (flags.s) return problem(`'.' with the s flag`)
      if (!unboundedNext(i + 1))
        return problem(`'.' without '*' or '+' (std::regex could match one byte of a multi-byte character)`)
      out += c
      i++
      continue
    }
    if (c === '(' && source[i + 1] === '?') {
      const kind = source[i + 2]
      if (kind !== ':' && kind !== '=' && kind !== '!')
        return problem(`'(?${kind ?? ''}' (lookbehind, named groups and inline flags are JavaScript-only)`)
      out += source.slice(i, i + 3)
      i += 3
      continue
    }
    if ((c === '^' || c === '$') && flags.m)
      return problem(`'${c}' with the m flag (std::regex's ECMAScript grammar has no multiline mode here)`)
    if (c === '{') {
      const q = /^\{[0-9]+(,[0-9]*)?\}/.exec(source.slice(i))
      if (!q) return problem(`a literal '{' (std::regex reads it as a malformed repeat)`)
      out += q[0]
      i += q[0].length
      continue
    }
    out += flags.i && isAsciiLetter(c) ? `[${c}${otherCase(c)}]` : c
    i++
  }
  if (Buffer.byteLength(out, 'utf8') > REGEX_MAX_BYTES)
    return problem(`a pattern longer than ${REGEX_MAX_BYTES} bytes (osquery's --regex_max_size)`)
  return { source: out }
}

/** Index of the `]` closing the class opened at `start`, or -1. A leading `]` is a literal. */
function classEnd(source: string, start: number): number {
  let j = start + 1
  if (source[j] === '^') j++
  for (; j < source.length; j++) {
    const c = source[j]
    if (c === '\\') j++
    else if (c === ']') return j
  }
  return -1
}

/** Class body with the other case of every ASCII letter and letter range added (for `i`). */
function foldClass(body: string): string {
  let extra = ''
  for (let j = 0; j < body.length; j++) {
    const c = body[j]!
    if (c === '\\') {
      j++
      continue
    }
    const hi = body[j + 2]
    if (body[j + 1] === '-' && hi !== undefined && hi !== ']' && hi !== '\\') {
      extra += foldRange(c.charCodeAt(0), hi.charCodeAt(0))
      j += 2
    } else if (isAsciiLetter(c)) extra += otherCase(c)
  }
  return body + extra
}

function foldRange(lo: number, hi: number): string {
  let out = ''
  const part = (a: number, b: number, shift: number) => {
    const x = Math.max(lo, a),
      y = Math.min(hi, b)
    if (x <= y) out += String.fromCharCode(x + shift) + (y > x ? '-' + String.fromCharCode(y + shift) : '')
  }
  part(0x61, 0x7a, -32)
  part(0x41, 0x5a, 32)
  return out
}
