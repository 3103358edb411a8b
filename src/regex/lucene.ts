/**
 * Sigma values as Lucene regular expressions, for what EQL's `:`/`like` cannot say: Sigma regexes
 * (JavaScript syntax, searched unanchored) and wildcard patterns holding a literal `*`/`?`. EQL's `regex`/`regex~` use Lucene's RegExp syntax, which always matches the
 * whole value and whose `~` (case-insensitive) form folds ASCII letters only:
 * https://www.elastic.co/guide/en/elasticsearch/reference/current/regexp-syntax.html,
 * https://www.elastic.co/guide/en/elasticsearch/reference/current/eql-syntax.html (regex, regex~).
 */
import type { Pattern } from '../ast/nodes.js'
import { normalize } from '../ast/pattern.js'
import { printing, unsupported, type Printed, type RegexNode, type RegexOf, type SigmaRegex } from './ast.js'
import { unitForms } from './units.js'
import { caseOrbit } from './case.js'
import { first, itemAt, must } from '../guards.js'

/** Why a value cannot be written as a Lucene regex: the construct and an explanation. */
export class Inexpressible extends Error {
  constructor(
    readonly construct: string,
    readonly reason: string,
  ) {
    super(reason)
  }
}

/**
 * One code point as a Lucene literal. Lucene reserves `. ? + * | { } [ ] ( ) " \` and, with the
 * optional operators on, `# @ & < > ~`; a backslash makes any character literal, so every
 * printable ASCII character other than a letter or digit is escaped.
 */
export function luceneChar(c: string): string {
  return /^[!-/:-@[-`{-~]$/.test(c) ? '\\' + c : c
}

/**
 * A Sigma wildcard pattern as a whole-value Lucene regex: `*` → `.*`, `?` → `.` (one code point
 * in both), literals escaped. A case-insensitive pattern expects `regex~`, whose folding is ASCII
 * letters only (RegExp.ASCII_CASE_INSENSITIVE), which is Sigma's (docs/semantics.md, "Case
 * folding"): every other character is compared as it is on both sides.
 */
export function patternToLucene(pattern: Pattern): string {
  let out = ''
  for (const s of normalize(pattern)) {
    if (s.kind === 'any') out += '.*'
    else if (s.kind === 'one') out += '.'
    else for (const c of s.text) out += luceneChar(c)
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Sigma regex (JavaScript syntax, no `u` flag) → Lucene RegExp

/** The units sharing `c`'s canonical form under JavaScript's `i` (no `u`), BMP only. */
const jsVariants = (c: string): string[] =>
  c.length !== 1 ? [c] : caseOrbit(c.charCodeAt(0)).map((x) => String.fromCharCode(x))

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
  item.length === 3 && item[1] === '-' ? luceneChar(first(item)) + '-' + luceneChar(itemAt(item, 2)) : luceneChar(item)
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

/**
 * A Sigma regular expression (searched, unanchored, JavaScript syntax) as a Lucene regex that
 * matches the whole value exactly when the Sigma regex finds a match in it: each top-level
 * alternative padded with `.*` on its open sides. `^`/`$` are accepted only at the edges of a
 * top-level alternative (then that side has no padding). Refused: lookaround, backreferences, word
 * boundaries, anchors elsewhere or with the `m` flag, and a few rarities.
 */
export function toLucene(regex: SigmaRegex): Printed {
  return printing(() => new LucenePrinter(regex).print())
}

/**
 * The top-level alternatives: a group that is a whole alternative (`(^a$)|(^b$)`, unquantified)
 * is unwrapped and its own alternatives spliced in — the same language, with its anchors now at
 * the edges where they can be read.
 */
function topAlternatives(root: RegexNode): RegexNode[] {
  const alts = root.kind === 'alt' ? root.items : [root]
  return alts.flatMap((a) => {
    let cur = a
    for (;;) {
      const only = cur.kind === 'seq' && cur.items.length === 1 ? first(cur.items) : cur
      if (only.kind !== 'group') break
      cur = only.body
    }
    if (cur === a) return [a]
    return cur.kind === 'alt' ? [...cur.items] : [cur]
  })
}

class LucenePrinter {
  private readonly alternatives: RegexNode[]
  private readonly forms
  constructor(private readonly regex: SigmaRegex) {
    this.alternatives = topAlternatives(regex.root)
    const root: RegexNode =
      this.alternatives.length === 1
        ? first(this.alternatives)
        : { kind: 'alt', items: this.alternatives, start: regex.root.start, end: regex.root.end }
    this.forms = unitForms(root, regex.flags, 'Lucene')
  }

  print(): string {
    return this.alternatives.map((a) => this.topAlternative(a)).join('|')
  }

  private anchor(n: RegexNode & { kind: 'anchor' }): never {
    const which = n.at === 'start' ? '^' : '$'
    return this.regex.flags.m
      ? unsupported('an anchor with the m flag', `Lucene has no line anchors (${which})`, n)
      : unsupported(
          'an anchor inside the expression',
          `Lucene matches whole values: ${which} is read only at the edge of a top-level alternative`,
          n,
        )
  }

  private topAlternative(a: RegexNode): string {
    const items = a.kind === 'seq' ? [...a.items] : [a]
    const first = items[0]
    const last = items[items.length - 1]
    const start = first?.kind === 'anchor' && first.at === 'start'
    if (start) {
      if (this.regex.flags.m) this.anchor(first)
      items.shift()
    }
    const end = last !== first && last?.kind === 'anchor' && last.at === 'end'
    if (end) {
      if (this.regex.flags.m) this.anchor(last)
      items.pop()
    }
    const body = items.map((x) => this.node(x)).join('')
    const inner = body === '' ? '()' : body
    return (start ? '' : '.*') + (start || end ? inner : `(${inner})`) + (end ? '' : '.*')
  }

  private node(n: RegexNode): string {
    switch (n.kind) {
      case 'alt':
        // Lucene reads an empty alternative as a parse error; `()` is its empty string.
        return n.items.map((x) => this.node(x) || '()').join('|')
      case 'seq':
        return n.items.map((x) => this.node(x)).join('')
      case 'char':
        return this.literal(n.cp)
      case 'anchor':
        return this.anchor(n)
      case 'boundary':
        return unsupported(`the word boundary \\${n.negated ? 'B' : 'b'}`, 'Lucene has no word boundaries', n)
      case 'backref':
        return unsupported('a backreference', 'Lucene has no backreferences', n)
      case 'look':
        return unsupported(n.behind ? 'a lookbehind' : 'a lookahead', 'Lucene has no lookaround', n)
      case 'group':
        return `(${this.node(n.body)})`
      case 'repeat':
        return this.repeat(n)
      case 'dot':
        return this.unit(n, this.regex.flags.s ? '' : LINE_TERMINATORS)
      case 'set':
        if (n.set === 'd' || n.set === 'w' || n.set === 's') return `[${SETS[n.set]}]`
        return this.unit(n, must(SETS[n.set.toLowerCase()], 'a set name: d, w or s'))
      case 'class':
        return this.characterClass(n)
    }
  }

  /** A unit atom: any unit but those of `set` (a negated Lucene class body; '' for any). */
  private unit(n: RegexNode, set: string): string {
    const body = this.forms.get(n) === 'bmp' ? set + ASTRAL : set
    return body === '' ? '.' : `[^${body}]`
  }

  /** Lucene's quantifiers are greedy only; a lazy one matches the same values, so it is dropped. */
  private repeat(n: RegexOf<'repeat'>): string {
    if (n.body.kind === 'char' && n.body.cp > 0xffff)
      unsupported(
        'a quantifier on a character outside the Basic Multilingual Plane',
        'JavaScript repeats only its second code unit',
        n,
      )
    // `*`, `+`, `?` as written, counts normalised (`{01}` is `{1}`); Lucene's quantifiers are
    // greedy only, and a lazy one matches the same values, so its `?` is dropped.
    const written = this.regex.source.slice(n.body.end, n.end)
    const q = !written.startsWith('{')
      ? first(written)
      : n.max === n.min
        ? `{${n.min}}`
        : n.max === undefined
          ? `{${n.min},}`
          : `{${n.min},${n.max}}`
    return this.node(n.body) + q
  }

  private literal(cp: number): string {
    const ch = String.fromCodePoint(cp)
    if (!this.regex.flags.i || ch.length !== 1) return luceneChar(ch)
    const vs = jsVariants(ch)
    // ASCII letters are folded by `regex~` itself; other letters need their variants spelt out.
    if (vs.length === 1 || (cp < 128 && vs.every((v) => v.charCodeAt(0) < 128))) return luceneChar(ch)
    return '[' + vs.map(luceneChar).join('') + ']'
  }

  /** `[...]` / `[^...]`: ranges and sets; with the `i` flag every member's case variants are added. */
  private characterClass(n: RegexOf<'class'>): string {
    const items: string[] = []
    const singles: string[] = []
    const ranges: Array<[number, number]> = []
    for (const it of n.items) {
      if (it.kind === 'set') {
        if (it.set === 'D' || it.set === 'W' || it.set === 'S')
          unsupported(`\\${it.set} inside a character class`, 'Lucene cannot subtract it inside one class', n)
        items.push(must(SETS[it.set], 'a set name: d, w or s'))
      } else if (it.kind === 'range') {
        ranges.push([it.from, it.to])
        items.push(luceneChar(String.fromCharCode(it.from)) + '-' + luceneChar(String.fromCharCode(it.to)))
      } else {
        const ch = String.fromCharCode(it.cp)
        singles.push(ch)
        items.push(luceneChar(ch))
      }
    }
    if (this.regex.flags.i) {
      const extra = new Set<string>()
      for (const s of singles) for (const v of jsVariants(s)) extra.add(v)
      for (const [lo, hi] of ranges) {
        if (hi - lo > 0x3000) unsupported('a wide character range with the i flag', 'too many case variants', n)
        for (let x = lo; x <= hi; x++) for (const v of jsVariants(String.fromCharCode(x))) extra.add(v)
      }
      for (const [lo, hi] of ranges)
        for (const v of Array.from(extra)) if (v.charCodeAt(0) >= lo && v.charCodeAt(0) <= hi) extra.delete(v)
      for (const s of singles) extra.delete(s)
      items.push(...[...extra].sort().map(luceneChar))
    }
    // `[^]` is any unit; `[]` matches nothing, which Lucene cannot write as a class.
    if (n.negated) return this.unit(n, items.join(''))
    if (items.length === 0) unsupported('an empty character class', 'Lucene has no empty class', n)
    return `[${items.join('')}]`
  }
}
