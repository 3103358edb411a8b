/**
 * A text search that says, without parsing a file's YAML, that none of its documents can have an
 * `id` equal to one of the given ids or a `title` whose lower case is one of the given (lower-case)
 * titles: `validate --all-from` (src/rule/load.ts, loadClashCandidates) then skips the file. A
 * file the search cannot rule out is parsed and checked in full, so the search may only ever say
 * "maybe" too often, never "no" wrongly. Why that holds:
 *
 * A string value comes from one scalar of the file (an alias or a `<<` merge repeats a scalar
 * written elsewhere in the same file). Its characters are the scalar's characters as written,
 * except that (1) a line break with the white space around it folds into a space or line break,
 * (2) in single quotes `''` stands for `'`, and (3) in double quotes a `\` starts an escape, and
 * `\` before a line break joins the lines. So each needle is searched with its white space
 * matching any run of white space and its `'` any run of `'`: a value written without escapes is
 * found in the text. For escapes, every span from a `"` that can open a double-quoted scalar (one not right after a
 * `\`) to the `"` that would close it, if it holds a `\`, is decoded as js-yaml decodes it and
 * searched as well (up to an escape js-yaml refuses: in a real scalar that is a syntax error, and
 * a file that does not parse has no documents). Titles compare in lower
 * case, in the lowered text: lowering a string is lowering each of its characters (none lowers
 * to white space or `'`), except for the capital sigma, which lowers by its neighbours; a text
 * with one is a "maybe" for titles.
 *
 * test/unit/all-from.test.ts writes ids and titles in every form named above and checks that the
 * search never skips a file the full parse finds a clash in.
 */

/**
 * A needle as a search: its white space matches any run of white space (folded lines) and its
 * quotes `'` any run of them (`''` in single quotes); leading and trailing white space and quotes
 * are left out (a block scalar adds a line break the text may not have).
 */
function search(needle: string): (hay: string) => boolean {
  const core = needle.replace(/^[\s']+|[\s']+$/g, '')
  if (!/[\s']/.test(core)) return (hay) => hay.includes(core)
  // Code units, not code points (no `u` flag): a piece is found wherever its units are.
  const source = core
    .split(/(\s+|'+)/)
    .map((part, i) => (i % 2 === 0 ? part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&') : part[0] === "'" ? "'+" : '\\s+'))
    .join('')
  const re = new RegExp(source)
  return (hay) => re.test(hay)
}

/** Past this many needles the search costs about what parsing does: every file is parsed. */
const MAX_NEEDLES = 64

/** js-yaml 4's one-character escapes in double-quoted scalars (its simpleEscapeSequence). */
const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '0': '\x00',
  a: '\x07',
  b: '\x08',
  t: '\x09',
  '\t': '\x09',
  n: '\x0A',
  v: '\x0B',
  f: '\x0C',
  r: '\x0D',
  e: '\x1B',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\x85',
  _: '\xA0',
  L: '\u2028',
  P: '\u2029',
}
const HEX_LENGTH: Readonly<Record<string, number>> = { x: 2, u: 4, U: 8 }
const isLineBreak = (c: string | undefined) => c === '\n' || c === '\r'
const isBlank = (c: string | undefined) => c === ' ' || c === '\t' || c === '\n' || c === '\r'

/**
 * The decoded text of every span that may be a double-quoted scalar with an escape, joined by line
 * breaks. An escape js-yaml does not know ends a span's text: in a real double-quoted scalar it
 * is a syntax error, and a file js-yaml cannot parse has no documents to clash with.
 */
export function decodedEscapes(text: string): string {
  const out: string[] = []
  let backslash = text.indexOf('\\')
  let i = text.indexOf('"')
  while (i >= 0 && backslash >= 0) {
    if (text[i - 1] === '\\') {
      i = text.indexOf('"', i + 1)
      continue
    }
    // From this quote to the first one no `\` escapes.
    let j = i + 1
    let escaped = false
    let close: number
    for (;;) {
      close = text.indexOf('"', j)
      if (backslash >= 0 && backslash < j) backslash = text.indexOf('\\', j)
      if (backslash < 0 || (close >= 0 && backslash > close)) break
      escaped = true
      j = backslash + 2
    }
    if (escaped) out.push(decodeSpan(text, i + 1, close < 0 ? text.length : close))
    // The closing quote may itself open the next span (a quote inside a plain scalar, say).
    i = close
  }
  return out.join('\n')
}

/** js-yaml's hex digit value, -1 for none. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48
  const lc = c | 32
  return lc >= 97 && lc <= 102 ? lc - 97 + 10 : -1
}

/** js-yaml's charFromCodepoint, overflow included (it adds hex digits in 32-bit arithmetic). */
function fromCodepoint(c: number): string {
  if (c <= 0xffff) return String.fromCharCode(c)
  return String.fromCharCode(((c - 0x10000) >> 10) + 0xd800, ((c - 0x10000) & 0x3ff) + 0xdc00)
}

/**
 * `text[start, end)` with js-yaml's escapes decoded; other characters, line breaks included, as
 * they are; up to the first escape js-yaml refuses.
 */
function decodeSpan(text: string, start: number, end: number): string {
  let out = ''
  let i = start
  while (i < end) {
    const b = text.indexOf('\\', i)
    if (b < 0 || b >= end) return out + text.slice(i, end)
    out += text.slice(i, b)
    const e = text[b + 1]
    if (e === undefined) return out
    if (isLineBreak(e)) {
      // `\` before a line break: the lines join, the breaks and the next line's indentation dropped.
      i = b + 1
      while (i < text.length && isBlank(text[i])) i++
      continue
    }
    const simple = SIMPLE_ESCAPES[e]
    if (simple !== undefined) {
      out += simple
      i = b + 2
      continue
    }
    const n = HEX_LENGTH[e]
    if (n === undefined) return out
    let code = 0
    for (let k = 0; k < n; k++) {
      const d = hexDigit(text.charCodeAt(b + 2 + k))
      if (d < 0) return out
      code = (code << 4) + d
    }
    out += fromCodepoint(code)
    i = b + 2 + n
  }
  return out
}

/**
 * A test for a file's text: false only when no document of it can have one of `ids` as its `id`
 * or one of `titles` (lower case) as its lower-cased `title`.
 */
export function clashPrefilter(wanted: {
  readonly ids: ReadonlySet<string>
  readonly titles: ReadonlySet<string>
}): (text: string) => boolean {
  if (wanted.ids.size + wanted.titles.size > MAX_NEEDLES) return () => true
  const ids = [...wanted.ids].map(search)
  const titles = [...wanted.titles].map(search)
  return (text) => {
    // The escapes' decoded text is searched beside the text (not joined to it: no copy of the text).
    const quote = text.indexOf('"')
    const decoded = quote >= 0 && text.indexOf('\\', quote) >= 0 ? decodedEscapes(text) : ''
    const hays = decoded ? [text, decoded] : [text]
    if (ids.some((holds) => hays.some(holds))) return true
    if (titles.length === 0) return false
    // Lower-casing is one character at a time (so each run of the title is found lowered) except
    // for the capital sigma, which lowers by its neighbours (ς at a word's end, σ elsewhere): no
    // case is known where a scalar's neighbours in the file change that, none is ruled out either.
    if (hays.some((hay) => hay.includes('\u03a3'))) return true
    const lowered = hays.map((hay) => hay.toLowerCase())
    return titles.some((holds) => lowered.some(holds))
  }
}
