/**
 * Elasticsearch's string matching, as the eql verifier evaluates it: wildcard patterns of `:` and
 * `like` and Lucene regular expressions of `regex`, with Elasticsearch's ASCII-only case folding.
 * Written from the documentation (and Elasticsearch's source where the docs are silent); it shares
 * nothing with the backend.
 */
import { RE2JS } from 're2js'
import { globMatches, globPattern, type GlobPattern } from './glob.js'
import { codePointAt, errorMessage, must } from '../guards.js'

/**
 * Case-insensitive matching folds ASCII letters only: Elasticsearch's
 * AutomatonQueries.toCaseInsensitiveChar returns the code point itself above 128 ("For now we only
 * work with ASCII characters"), and the term query documents `case_insensitive` as "ASCII case
 * insensitive matching" (https://www.elastic.co/guide/en/elasticsearch/reference/current/query-dsl-term-query.html).
 */
function asciiAlternates(c: string): string {
  if (/^[a-z]$/.test(c)) return c + c.toUpperCase()
  if (/^[A-Z]$/.test(c)) return c + c.toLowerCase()
  return c
}

/** Escape for RE2 (which reads a backslash before any punctuation as that character). */
const escapeRe = (c: string): string => c.replace(/[\\^$.*+?()[\]{}|/]/g, '\\$&')
const escapeReClass = (c: string): string => c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&')

const reChar = (c: string, insensitive: boolean): string => {
  const alts = insensitive ? asciiAlternates(c) : c
  return alts.length > 1 ? `[${escapeReClass(alts)}]` : escapeRe(c)
}

const wildcardCache = new Map<string, GlobPattern>()

/** ASCII letters to lower case, nothing else (Elasticsearch's folding, above). */
const asciiLower = (s: string): string => s.replace(/[A-Z]/g, (c) => c.toLowerCase())

/**
 * A `:`/`like`/`like~` pattern: `*` any run of code points (empty too), `?` exactly one code
 * point, everything else literal — there is no escape (E1: "`*` … `?` …"; Elasticsearch's
 * StringUtils.toLikePattern turns every `*` and `?` into a wildcard). The whole value must match.
 * Elasticsearch runs it as an automaton (linear); here a glob matcher (value × pattern steps).
 */
export function wildcardMatches(pattern: string, value: string, insensitive: boolean): boolean {
  const key = (insensitive ? 'i' : 'c') + pattern
  let glob = wildcardCache.get(key)
  if (!glob) {
    glob = globPattern(insensitive ? asciiLower(pattern) : pattern, '*', '?')
    wildcardCache.set(key, glob)
  }
  return globMatches(glob, insensitive ? asciiLower(value) : value)
}

/** A Lucene regex that this evaluator cannot read: reported as a verify error, never guessed. */
export class LuceneSyntaxError extends Error {}

const luceneCache = new Map<string, RE2JS>()

/**
 * A Lucene regular expression (https://www.elastic.co/guide/en/elasticsearch/reference/current/regexp-syntax.html)
 * tested against the whole value: "Lucene’s regular expression engine … patterns are always
 * anchored". `.` is any code point (newlines too); `\` makes the next character literal; classes
 * `[a-z]`, `[^…]`; groups; `|`; `* + ? {n} {n,} {n,m}`. The optional operators (`# @ & ~ <n-m>`)
 * are rejected: the backend escapes those characters. With `regex~`, single characters fold
 * ASCII case (RegExp's ASCII_CASE_INSENSITIVE applies to characters, not to ranges).
 *
 * Lucene compiles the expression to an automaton, so matching takes linear time whatever the
 * pattern; the translation runs in RE2 (re2js), an automaton too, never in a backtracking engine.
 */
export function luceneMatches(source: string, value: string, insensitive: boolean): boolean {
  const key = (insensitive ? 'i' : 'c') + source
  let re = luceneCache.get(key)
  if (!re) {
    const translated = new LuceneToRe2(source, insensitive).translate()
    try {
      re = RE2JS.compile(translated)
    } catch (e) {
      // RE2 bounds repetition counts at 1000; Lucene's own limit is on automaton states.
      throw new LuceneSyntaxError(
        `Lucene regex ${JSON.stringify(source)} is too large for this evaluator: ${errorMessage(e)}`,
      )
    }
    luceneCache.set(key, re)
  }
  return re.matches(value)
}

class LuceneToRe2 {
  private readonly cps: string[]
  private i = 0
  constructor(
    source: string,
    private readonly insensitive: boolean,
  ) {
    this.cps = [...source]
  }

  private fail(what: string): never {
    throw new LuceneSyntaxError(`${what} at ${this.i} in Lucene regex ${JSON.stringify(this.cps.join(''))}`)
  }

  private peek(): string | undefined {
    return this.cps[this.i]
  }

  translate(): string {
    const out = this.union()
    if (this.i < this.cps.length) this.fail(`unexpected ${JSON.stringify(this.peek())}`)
    return out
  }

  private union(): string {
    const alts = [this.concat()]
    while (this.peek() === '|') {
      this.i++
      alts.push(this.concat())
    }
    return alts.join('|')
  }

  private concat(): string {
    let out = ''
    let any = false
    for (;;) {
      const c = this.peek()
      if (c === undefined || c === '|' || c === ')') break
      out += this.repeat()
      any = true
    }
    // Lucene's parser has no empty alternative (an empty group is written `()`).
    if (!any) this.fail('an empty expression')
    return out
  }

  private repeat(): string {
    let atom = this.simple()
    for (;;) {
      const c = this.peek()
      if (c === '*' || c === '+' || c === '?') {
        this.i++
        atom = `(?:${atom})${c}`
      } else if (c === '{') {
        const rest = this.cps.slice(this.i).join('')
        const m = /^\{(\d+)(,(\d*))?\}/.exec(rest)
        if (!m) this.fail('a bad repeat')
        this.i += [...m[0]].length
        atom = `(?:${atom})${m[0]}`
      } else {
        return atom
      }
    }
  }

  private simple(): string {
    const c = must(this.peek(), 'simple() is called before the end of the pattern')
    if (c === '(') {
      this.i++
      if (this.peek() === ')') {
        this.i++
        return '(?:)'
      }
      const inner = this.union()
      if (this.peek() !== ')') this.fail('an unclosed group')
      this.i++
      return `(?:${inner})`
    }
    if (c === '[') return this.charClass()
    if (c === '.') {
      this.i++
      return '(?s:.)'
    }
    if (c === '\\') {
      this.i++
      const next = this.peek()
      if (next === undefined) this.fail('a trailing backslash')
      this.i++
      return reChar(next, this.insensitive)
    }
    if ('#@&~<>'.includes(c)) this.fail(`the optional operator ${c}`)
    if ('*+?{}]"'.includes(c)) this.fail(`the reserved character ${c}`)
    this.i++
    return reChar(c, this.insensitive)
  }

  private classChar(): string {
    const c = this.peek()
    if (c === undefined) this.fail('an unclosed class')
    this.i++
    if (c === '\\') {
      const next = this.peek()
      if (next === undefined) this.fail('a trailing backslash')
      this.i++
      return next
    }
    return c
  }

  private charClass(): string {
    this.i++
    let negated = false
    if (this.peek() === '^') {
      negated = true
      this.i++
    }
    let items = ''
    let count = 0
    while (this.peek() !== ']') {
      const from = this.classChar()
      if (this.peek() === '-' && this.cps[this.i + 1] !== ']' && this.cps[this.i + 1] !== undefined) {
        this.i++
        const to = this.classChar()
        if (codePointAt(to, 0) < codePointAt(from, 0)) this.fail('a reversed range')
        items += `${escapeReClass(from)}-${escapeReClass(to)}`
      } else {
        items += escapeReClass(this.insensitive ? asciiAlternates(from) : from)
      }
      count++
    }
    this.i++
    if (count === 0) this.fail('an empty class')
    return `[${negated ? '^' : ''}${items}]`
  }
}
