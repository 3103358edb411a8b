/**
 * The one reader of Sigma regular expressions: JavaScript RegExp syntax without the `u` flag,
 * with the web-compatibility grammar of ECMA-262 Annex B.1.2 (a `{` that starts no quantifier and a
 * lone `]` are literal, identity escapes such as `\-` stand for the character). Rules are checked
 * with `new RegExp` when they are loaded (src/rule/build.ts), so the parser only meets valid
 * JavaScript; the few forms it does not model become an Unsupported with the construct named.
 */
import {
  UnsupportedConstruct,
  unsupported,
  type ClassItem,
  type RegexFlags,
  type RegexNode,
  type SetName,
  type SigmaRegex,
  type Unsupported,
} from './ast.js'
import { codePointAt, first, isOneOf, itemAt, must } from '../guards.js'

/**
 * How deep groups may nest. JavaScript accepts far deeper patterns; every reader of the tree
 * recurses, so deeper ones are refused here rather than overflow the stack.
 */
export const MAX_GROUP_DEPTH = 100

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { t: 9, n: 10, v: 11, f: 12, r: 13 }
const SET_NAMES: readonly SetName[] = ['d', 'D', 'w', 'W', 's', 'S']
const GROUP_NAME = /^<([A-Za-z_$][\w$]*)>/

export function parseSigmaRegex(source: string, flags: RegexFlags): SigmaRegex | { unsupported: Unsupported } {
  try {
    return { source, flags, root: new Parser(source).parse() }
  } catch (e) {
    if (e instanceof UnsupportedConstruct) return { unsupported: e.unsupported }
    throw e
  }
}

class Parser {
  private i = 0
  private depth = 0
  /** How many capturing groups the whole pattern has: `\N` above it is not a backreference. */
  private readonly groups: number

  constructor(private readonly src: string) {
    this.groups = countGroups(src)
  }

  parse(): RegexNode {
    const root = this.disjunction()
    if (this.i < this.src.length)
      unsupported('an unbalanced )', 'the pattern closes a group it never opened', this.at(1))
    return root
  }

  private at(length: number): { start: number; end: number } {
    return { start: this.i, end: this.i + length }
  }

  private peek(k = 0): string | undefined {
    return this.src[this.i + k]
  }

  private disjunction(): RegexNode {
    const start = this.i
    const items = [this.alternative()]
    while (this.peek() === '|') {
      this.i++
      items.push(this.alternative())
    }
    return items.length === 1 ? first(items) : { kind: 'alt', items, start, end: this.i }
  }

  private alternative(): RegexNode {
    const start = this.i
    const items: RegexNode[] = []
    for (;;) {
      const c = this.peek()
      if (c === undefined || c === '|' || c === ')') break
      items.push(this.term())
    }
    return { kind: 'seq', items, start, end: this.i }
  }

  private term(): RegexNode {
    const atom = this.atom()
    const q = this.quantifier()
    if (!q) return atom
    if (atom.kind === 'anchor' || atom.kind === 'boundary' || (atom.kind === 'look' && atom.behind))
      unsupported('a quantifier with nothing to repeat', 'an assertion cannot be repeated', atom)
    return { kind: 'repeat', body: atom, ...q, start: atom.start, end: this.i }
  }

  private quantifier(): { min: number; max: number | undefined; lazy: boolean } | undefined {
    const c = this.peek()
    let min: number
    let max: number | undefined
    if (c === '*' || c === '+' || c === '?') {
      this.i++
      min = c === '+' ? 1 : 0
      max = c === '?' ? 1 : undefined
    } else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(this.src.slice(this.i, this.i + 40))
      if (!m) return undefined
      this.i += m[0].length
      min = Number(m[1])
      max = m[2] === undefined ? min : m[3] === '' ? undefined : Number(m[3])
    } else {
      return undefined
    }
    const lazy = this.peek() === '?'
    if (lazy) this.i++
    return { min, max, lazy }
  }

  private atom(): RegexNode {
    const start = this.i
    const c = must(this.peek(), 'sequence() calls term() only before the end of the pattern')
    switch (c) {
      case '.':
        this.i++
        return { kind: 'dot', start, end: this.i }
      case '^':
      case '$':
        this.i++
        return { kind: 'anchor', at: c === '^' ? 'start' : 'end', start, end: this.i }
      case '(':
        return this.group()
      case '[':
        return this.characterClass()
      case '\\':
        return this.atomEscape()
      case '*':
      case '+':
      case '?':
        return unsupported('a quantifier with nothing to repeat', `${c} follows nothing`, this.at(1))
      case '{':
        if (/^\{\d+(,\d*)?\}/.test(this.src.slice(this.i, this.i + 40)))
          unsupported('a quantifier with nothing to repeat', '{…} follows nothing', this.at(1))
    }
    const cp = codePointAt(this.src, this.i)
    this.i += cp > 0xffff ? 2 : 1
    return { kind: 'char', cp, start, end: this.i }
  }

  private group(): RegexNode {
    const start = this.i
    if (++this.depth > MAX_GROUP_DEPTH)
      unsupported(
        `groups nested more than ${MAX_GROUP_DEPTH} deep`,
        'rulesmith reads regexes up to that depth',
        this.at(1),
      )
    this.i++
    let node: (body: RegexNode) => RegexNode
    if (this.peek() === '?') {
      const rest = this.src.slice(this.i + 1, this.i + 200)
      const name = GROUP_NAME.exec(rest)
      if (rest.startsWith(':')) {
        this.i += 2
        node = (body) => ({ kind: 'group', capture: false, body, start, end: this.i })
      } else if (rest.startsWith('=') || rest.startsWith('!')) {
        const negated = rest.startsWith('!')
        this.i += 2
        node = (body) => ({ kind: 'look', behind: false, negated, body, start, end: this.i })
      } else if (rest.startsWith('<=') || rest.startsWith('<!')) {
        const negated = rest.startsWith('<!')
        this.i += 3
        node = (body) => ({ kind: 'look', behind: true, negated, body, start, end: this.i })
      } else if (name) {
        this.i += 1 + name[0].length
        node = (body) => ({
          kind: 'group',
          capture: true,
          name: must(name[1], 'the group matched'),
          body,
          start,
          end: this.i,
        })
      } else {
        return unsupported(
          `the group syntax (?${rest.slice(0, 1)}`,
          'only (…), (?:…), (?<name>…) and lookaround are read',
          { start, end: start + 3 },
        )
      }
    } else {
      node = (body) => ({ kind: 'group', capture: true, body, start, end: this.i })
    }
    const body = this.disjunction()
    if (this.peek() !== ')') unsupported('an unclosed (', 'a group is not closed', { start, end: this.i })
    this.i++
    this.depth--
    return node(body)
  }

  /** `\…` outside a class. */
  private atomEscape(): RegexNode {
    const start = this.i
    const e = this.peek(1)
    if (e === undefined) return unsupported('a trailing backslash', 'the pattern ends in a backslash', this.at(1))
    if (e === 'b' || e === 'B') {
      this.i += 2
      return { kind: 'boundary', negated: e === 'B', start, end: this.i }
    }
    if (/[1-9]/.test(e)) {
      const digits = must(/^\d+/.exec(this.src.slice(this.i + 1)), 'the escape starts with a digit')[0]
      // Annex B: with fewer groups than that, `\N` is an octal escape (or, for 8 and 9, a digit).
      if (Number(digits) > this.groups)
        unsupported('an octal escape', 'legacy octal escapes are read differently by every engine', {
          start,
          end: start + 1 + digits.length,
        })
      this.i += 1 + digits.length
      return { kind: 'backref', group: Number(digits), start, end: this.i }
    }
    if (e === 'k') {
      const name = GROUP_NAME.exec(this.src.slice(this.i + 2))
      this.i += 2 + (name ? name[0].length : 0)
      return { kind: 'backref', ...(name ? { name: must(name[1], 'the group matched') } : {}), start, end: this.i }
    }
    const item = this.classEscape(false)
    if (item.kind === 'set') return item
    return { kind: 'char', cp: item.cp, escape: e, start, end: this.i }
  }

  /**
   * An escape that stands for a character or a set (`\d`…), outside or inside a class; `i`
   * points at the backslash. Backreferences and `\b`/`\B` outside a class are handled before.
   */
  private classEscape(inClass: boolean): Extract<ClassItem, { kind: 'char' | 'set' }> {
    const start = this.i
    const e = this.peek(1)
    if (e === undefined) return unsupported('a trailing backslash', 'the pattern ends in a backslash', this.at(1))
    this.i += 2
    const end = (): number => this.i
    if (isOneOf(SET_NAMES, e)) return { kind: 'set', set: e, start, end: end() }
    const simple = SIMPLE_ESCAPES[e]
    if (simple !== undefined) return { kind: 'char', cp: simple, start, end: end() }
    if (inClass && e === 'b') return { kind: 'char', cp: 8, start, end: end() }
    if (e === '0') {
      if (/[0-9]/.test(this.peek() ?? ''))
        unsupported('an octal escape', 'legacy octal escapes are read differently by every engine', {
          start,
          end: start + 3,
        })
      return { kind: 'char', cp: 0, start, end: end() }
    }
    if (/[1-9]/.test(e))
      unsupported('an octal escape', 'legacy octal escapes are read differently by every engine', { start, end: end() })
    if (e === 'x' || e === 'u') {
      const n = e === 'x' ? 2 : 4
      const hex = this.src.slice(this.i, this.i + n)
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex))
        unsupported(`the escape \\${e} without ${n} hex digits`, `JavaScript reads it as the letter ${e}`, {
          start,
          end: end(),
        })
      this.i += n
      const cp = parseInt(hex, 16)
      if (cp >= 0xd800 && cp <= 0xdfff) {
        // `\uD83D\uDE00`: a surrogate pair written as two escapes is one character.
        const low = /^\\u([dD][c-fC-F][0-9a-fA-F]{2})/.exec(this.src.slice(this.i))
        if (cp <= 0xdbff && low && !inClass) {
          this.i += 6
          const lo = parseInt(must(low[1], 'the group matched'), 16)
          return { kind: 'char', cp: 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00), start, end: end() }
        }
        unsupported('a surrogate escape', 'a lone UTF-16 surrogate is no character in other engines', {
          start,
          end: end(),
        })
      }
      return { kind: 'char', cp, start, end: end() }
    }
    if (e === 'c') {
      const letter = this.peek()
      if (!letter || !/[A-Za-z]/.test(letter))
        unsupported('\\c without a letter', 'JavaScript reads it as a backslash and a c', { start, end: end() })
      this.i++
      return { kind: 'char', cp: letter.charCodeAt(0) % 32, start, end: end() }
    }
    // An identity escape: the character itself. For a letter or digit this is almost surely a
    // construct of another dialect (`\A`, `\Z`, `\h`, `\p{…}`), which JavaScript reads as the
    // plain letter: refused everywhere rather than silently matching a letter.
    if (/[A-Za-z0-9]/.test(e))
      unsupported(
        `the escape \\${e}`,
        `JavaScript reads it as a plain '${e}', other regex dialects as something else`,
        { start, end: end() },
      )
    const cp = codePointAt(this.src, start + 1)
    if (cp > 0xffff) this.i++
    return { kind: 'char', cp, start, end: end() }
  }

  private characterClass(): RegexNode {
    const start = this.i
    this.i++
    const negated = this.peek() === '^'
    if (negated) this.i++
    /** Atoms in order, `-` marked, before ranges are formed. */
    const atoms: Array<Extract<ClassItem, { kind: 'char' | 'set' }> & { dash?: boolean }> = []
    for (;;) {
      const c = this.peek()
      if (c === undefined) unsupported('an unterminated character class', 'a [ is not closed', { start, end: this.i })
      if (c === ']') {
        this.i++
        break
      }
      const at = this.i
      if (c === '\\') atoms.push(this.classEscape(true))
      else {
        const cp = codePointAt(this.src, this.i)
        if (cp > 0xffff)
          unsupported(
            'a character outside the Basic Multilingual Plane inside a class',
            'JavaScript reads it as two separate code units',
            { start: at, end: at + 2 },
          )
        this.i++
        atoms.push({ kind: 'char', cp, start: at, end: this.i, ...(c === '-' ? { dash: true } : {}) })
      }
    }
    // A `-` makes a range only between two single characters; elsewhere it is literal (Annex B).
    const items: ClassItem[] = []
    for (let k = 0; k < atoms.length;) {
      const a = itemAt(atoms, k)
      const dash = atoms[k + 1]
      const b = atoms[k + 2]
      if (a.kind === 'char' && dash?.dash && b?.kind === 'char') {
        if (b.cp < a.cp) unsupported('a character class range out of order', 'the range is empty', a)
        items.push({ kind: 'range', from: a.cp, to: b.cp, start: a.start, end: b.end })
        k += 3
      } else {
        items.push(a.kind === 'char' ? { kind: 'char', cp: a.cp, start: a.start, end: a.end } : a)
        k += 1
      }
    }
    return { kind: 'class', negated, items, start, end: this.i }
  }
}

/** Capturing groups in a pattern: `(` not followed by `?`, or `(?<name>`, outside classes. */
function countGroups(src: string): number {
  let n = 0
  let inClass = false
  for (let i = 0; i < src.length; i++) {
    const c = src[i]
    if (c === '\\') i++
    else if (inClass) inClass = c !== ']'
    else if (c === '[') inClass = true
    else if (c === '(' && (src[i + 1] !== '?' || GROUP_NAME.test(src.slice(i + 2, i + 200)))) n++
  }
  return n
}

/** Walk every node, parents first. */
export function walk(node: RegexNode, visit: (n: RegexNode, parents: readonly RegexNode[]) => void): void {
  const go = (n: RegexNode, parents: RegexNode[]): void => {
    visit(n, parents)
    const next = [...parents, n]
    if (n.kind === 'alt' || n.kind === 'seq') for (const x of n.items) go(x, next)
    else if (n.kind === 'group' || n.kind === 'look' || n.kind === 'repeat') go(n.body, next)
  }
  go(node, [])
}

export { countGroups }
