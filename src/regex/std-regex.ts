/**
 * osquery's `regex_match`: C++ std::regex with its ECMAScript grammar, run on the bytes of the
 * UTF-8 value (https://osquery.io/schema/ (regex_match), https://en.cppreference.com/w/cpp/regex/ecmascript;
 * docs/targets/osquery.md). Its grammar is JavaScript's older self, so a Sigma regex is mostly
 * written back as it was; what std::regex reads differently is refused: anything non-ASCII (bytes,
 * not characters), `\s` (ASCII there, Unicode in JavaScript), lookbehind and named groups, flags
 * (no flags at all: `i` becomes letter classes, `m` with anchors and `s` with `.` are refused), and
 * `.`, `[^…]`, `\W`, `\D` unless repeated without bound (once, they could take one byte of a
 * multi-byte character).
 */
import { printing, unsupported, type Printed, type RegexNode, type RegexOf, type SigmaRegex } from './ast.js'
import { itemAt } from '../guards.js'

/** osquery's hidden flag --regex_max_size: longer patterns are an error. */
export const REGEX_MAX_BYTES = 256

const isAsciiLetter = (c: string): boolean => /^[A-Za-z]$/.test(c)

/** `[a-z]` → also upper case letters; a regex letter outside a class → `[Aa]` (for the `i` flag). */
function otherCase(c: string): string {
  const lower = c.toLowerCase()
  return lower === c ? c.toUpperCase() : lower
}

export function toStdRegex(regex: SigmaRegex): Printed {
  const { source, flags } = regex
  const raw = (n: { start: number; end: number }): string => source.slice(n.start, n.end)
  /** A node that may take one byte of a multi-byte character is exact only repeated without bound. */
  const wide = (n: RegexNode, parent: RegexNode | undefined, what: string): void => {
    const unbounded = parent?.kind === 'repeat' && parent.max === undefined && parent.min <= 1
    if (!unbounded)
      unsupported(`${what} without '*' or '+'`, 'std::regex could match one byte of a multi-byte character', n)
  }
  const print = (n: RegexNode, parent?: RegexNode): string => {
    switch (n.kind) {
      case 'alt':
        return n.items.map((x) => print(x, n)).join('|')
      case 'seq':
        return n.items.map((x) => print(x, n)).join('')
      case 'char': {
        if (n.cp >= 0x80)
          unsupported(
            `the non-ASCII character '${String.fromCodePoint(n.cp)}'`,
            'std::regex matches bytes, not characters',
            n,
          )
        const ch = String.fromCharCode(n.cp)
        if (n.escape === undefined) {
          if (ch === '{') unsupported("a literal '{'", 'std::regex reads it as a malformed repeat', n)
          return flags.i && isAsciiLetter(ch) ? `[${ch}${otherCase(ch)}]` : ch
        }
        if (flags.i && isAsciiLetter(ch))
          unsupported(`the escape '${raw(n)}' of a letter with the i flag`, 'std::regex has no i flag', n)
        return raw(n)
      }
      case 'dot':
        if (flags.s) unsupported("'.' with the s flag", 'std::regex has no s flag', n)
        wide(n, parent, "'.'")
        return '.'
      case 'set':
        if (n.set === 's' || n.set === 'S')
          unsupported(`'\\${n.set}'`, "std::regex's white space is ASCII only, Sigma's is Unicode", n)
        if (n.set === 'W' || n.set === 'D') wide(n, parent, `'\\${n.set}'`)
        return raw(n)
      case 'class':
        return characterClass(n, parent)
      case 'anchor':
        if (flags.m)
          unsupported(`'${raw(n)}' with the m flag`, "std::regex's ECMAScript grammar has no multiline mode here", n)
        return raw(n)
      case 'boundary':
        return raw(n)
      case 'backref':
        if (n.name !== undefined) unsupported('a named backreference', 'std::regex has no named groups', n)
        if (flags.i) unsupported('a backreference with the i flag', 'std::regex has no i flag', n)
        return raw(n)
      case 'group':
        if (n.name !== undefined) unsupported('a named group', 'std::regex has no named groups', n)
        return `(${n.capture ? '' : '?:'}${print(n.body, n)})`
      case 'look':
        if (n.behind) unsupported('a lookbehind', 'std::regex has no lookbehind', n)
        return `(?${n.negated ? '!' : '='}${print(n.body, n)})`
      case 'repeat':
        return print(n.body, n) + source.slice(n.body.end, n.end)
    }
  }
  const characterClass = (n: RegexOf<'class'>, parent: RegexNode | undefined): string => {
    const text = raw(n)
    const inner = text.slice(n.negated ? 2 : 1, -1)
    if (inner === '') unsupported(`the empty class '${text}'`, 'JavaScript-only', n)
    if (n.items.some((x) => x.kind === 'set' && (x.set === 's' || x.set === 'S')))
      unsupported("'\\s' in a class", "std::regex's white space is ASCII only", n)
    for (const ch of inner)
      if (ch.charCodeAt(0) >= 0x80)
        unsupported(`the non-ASCII character '${ch}' in a class`, 'std::regex matches bytes', n)
    if (/\\[ux]/.test(inner)) unsupported('a hex escape in a class', 'std::regex reads it differently', n)
    if (/\[[:=.]/.test(inner))
      unsupported(`a POSIX class or collating element in '${text}'`, 'std::regex reads it, JavaScript does not', n)
    if (flags.i && /\\.-|-\\/.test(inner))
      unsupported('a range bounded by an escape with the i flag', 'std::regex has no i flag', n)
    if (n.negated || n.items.some((x) => x.kind === 'set' && (x.set === 'W' || x.set === 'D')))
      wide(n, parent, `'${text}'`)
    return '[' + (n.negated ? '^' : '') + (flags.i ? foldClass(inner) : inner) + ']'
  }
  return printing(() => {
    const out = print(regex.root)
    if (Buffer.byteLength(out, 'utf8') > REGEX_MAX_BYTES)
      unsupported(`a pattern longer than ${REGEX_MAX_BYTES} bytes`, "osquery's --regex_max_size", regex.root)
    return out
  })
}

/** Class body with the other case of every ASCII letter and letter range added (for `i`). */
function foldClass(body: string): string {
  let extra = ''
  for (let j = 0; j < body.length; j++) {
    const c = itemAt(body, j)
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
  const part = (a: number, b: number, shift: number): void => {
    const x = Math.max(lo, a)
    const y = Math.min(hi, b)
    if (x <= y) out += String.fromCharCode(x + shift) + (y > x ? '-' + String.fromCharCode(y + shift) : '')
  }
  part(0x61, 0x7a, -32)
  part(0x41, 0x5a, 32)
  return out
}
