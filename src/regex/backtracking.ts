/**
 * Patterns that backtrack catastrophically: exponential time in the engines that try every way a
 * pattern can match before giving up — PCRE (Splunk, https://www.pcre.org/current/doc/html/pcre2perform.html),
 * Java's java.util.regex (Elasticsearch evaluates an EQL `regex` with it when it runs the
 * comparison in a script instead of as a Lucene automaton query: RLikePattern.asJavaRegex() hands
 * the pattern to RegexProcessor, which compiles it with java.util.regex.Pattern — elastic/elasticsearch
 * x-pack/plugin/ql/.../predicate/regex; docs/targets/eql.md) and libstdc++'s std::regex (osquery's
 * regex_match, docs/targets/osquery.md). RE2 (KQL) and Lucene's automata run in linear time.
 *
 * The check is static and deliberately narrow, to stay quiet on ordinary patterns. It reports a
 * repeat without bound (or of 10 and more) whose body can match one text in more than one way
 * across its iterations, when something after it can still fail (only then does the engine try
 * every split):
 * - a nested unbounded repeat whose characters the rest of the body can also take, or skip:
 *   `(a+)+$`, `(\w+\s?)*$`, `(.*\\)+x`, `(x\w+)+!`;
 * - two alternatives that match the same text: `(a|a)*$`, `(\w|\d)+$`.
 * Patterns whose iterations are separated by a character the repeat cannot take (`(\w+\.)+com`,
 * `(\\[^\\]+)+x`) are linear and not reported.
 */
import { matchesEmpty, type RegexNode, type RegexOf, type SigmaRegex } from './ast.js'
import { caseOrbit } from './case.js'
import { itemAt } from '../guards.js'

/** A repeat that backtracks catastrophically: its span in the source and why. */
export interface Backtracking {
  readonly start: number
  readonly end: number
  readonly why: string
}

/** A set of characters as sorted, disjoint, inclusive code point ranges. */
type CharSet = ReadonlyArray<readonly [number, number]>

const MAX_CP = 0x10ffff
const ALL: CharSet = [[0, MAX_CP]]
const DIGIT: CharSet = [[0x30, 0x39]]
const WORD: CharSet = [
  [0x30, 0x39],
  [0x41, 0x5a],
  [0x5f, 0x5f],
  [0x61, 0x7a],
]
const SPACE: CharSet = normalize([
  [9, 13],
  [0x20, 0x20],
  [0xa0, 0xa0],
  [0x1680, 0x1680],
  [0x2000, 0x200a],
  [0x2028, 0x2029],
  [0x202f, 0x202f],
  [0x205f, 0x205f],
  [0x3000, 0x3000],
  [0xfeff, 0xfeff],
])
const LINE_TERMINATORS: CharSet = normalize([
  [0x0a, 0x0a],
  [0x0d, 0x0d],
  [0x2028, 0x2029],
])

function normalize(ranges: ReadonlyArray<readonly [number, number]>): CharSet {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0])
  const out: Array<[number, number]> = []
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1]
    if (last && lo <= last[1] + 1) last[1] = Math.max(last[1], hi)
    else out.push([lo, hi])
  }
  return out
}

function complement(set: CharSet): CharSet {
  const out: Array<[number, number]> = []
  let next = 0
  for (const [lo, hi] of set) {
    if (lo > next) out.push([next, lo - 1])
    next = hi + 1
  }
  if (next <= MAX_CP) out.push([next, MAX_CP])
  return out
}

function intersects(a: CharSet, b: CharSet): boolean {
  let i = 0
  let j = 0
  while (i < a.length && j < b.length) {
    const [alo, ahi] = itemAt(a, i)
    const [blo, bhi] = itemAt(b, j)
    if (alo <= bhi && blo <= ahi) return true
    if (ahi < bhi) i++
    else j++
  }
  return false
}

const union = (sets: readonly CharSet[]): CharSet => normalize(sets.flat())

class Analysis {
  constructor(private readonly regex: SigmaRegex) {}

  /** The characters a one-character atom matches; undefined for anything else. */
  atom(n: RegexNode): CharSet | undefined {
    const { i, s } = this.regex.flags
    switch (n.kind) {
      case 'char':
        return normalize((i && n.cp <= 0xffff ? caseOrbit(n.cp) : [n.cp]).map((c) => [c, c] as const))
      case 'dot':
        return s ? ALL : complement(LINE_TERMINATORS)
      case 'set':
        return this.named(n.set)
      case 'class': {
        const parts = n.items.map((it): CharSet => {
          if (it.kind === 'set') return this.named(it.set)
          const lo = it.kind === 'range' ? it.from : it.cp
          const hi = it.kind === 'range' ? it.to : it.cp
          if (!i || hi - lo > 0x3000) return [[lo, hi]]
          const cps: number[] = []
          for (let c = lo; c <= hi; c++) cps.push(...(c <= 0xffff ? caseOrbit(c) : [c]))
          return normalize(cps.map((c) => [c, c] as const))
        })
        const members = union(parts)
        return n.negated ? complement(members) : members
      }
      default:
        return undefined
    }
  }

  private named(set: string): CharSet {
    const base = set.toLowerCase() === 'd' ? DIGIT : set.toLowerCase() === 'w' ? WORD : SPACE
    return set === set.toLowerCase() ? base : complement(base)
  }

  /** Every character the node can consume. */
  chars(n: RegexNode): CharSet {
    const a = this.atom(n)
    if (a) return a
    switch (n.kind) {
      case 'alt':
      case 'seq':
        return union(n.items.map((x) => this.chars(x)))
      case 'group':
      case 'repeat':
        return this.chars(n.body)
      default:
        return []
    }
  }

  /** Whether the node can match the empty string. */
  nullable(n: RegexNode): boolean {
    return matchesEmpty(n)
  }

  /** Whether the node can match some text made only of characters in `set` (the empty text counts). */
  within(n: RegexNode, set: CharSet): boolean {
    const a = this.atom(n)
    if (a) return intersects(a, set)
    switch (n.kind) {
      case 'seq':
        return n.items.every((x) => this.within(x, set))
      case 'alt':
        return n.items.some((x) => this.within(x, set))
      case 'group':
        return this.within(n.body, set)
      case 'repeat':
        return n.min === 0 || this.within(n.body, set)
      default:
        return true
    }
  }

  /** Like within, but through the branches that lead to `target`. */
  withinVia(n: RegexNode, target: RegexNode, set: CharSet): boolean {
    if (n === target) return true
    switch (n.kind) {
      case 'seq':
        return n.items.every((x) => (contains(x, target) ? this.withinVia(x, target, set) : this.within(x, set)))
      case 'alt':
        return n.items.some((x) => contains(x, target) && this.withinVia(x, target, set))
      case 'group':
      case 'repeat':
        return this.withinVia(n.body, target, set)
      default:
        return this.within(n, set)
    }
  }

  /** The characters of each position, when the node is a fixed-length run of one-character atoms. */
  fixed(n: RegexNode): CharSet[] | undefined {
    const a = this.atom(n)
    if (a) return [a]
    if (n.kind === 'group') return this.fixed(n.body)
    if (n.kind !== 'seq') return undefined
    const out: CharSet[] = []
    for (const x of n.items) {
      const f = this.fixed(x)
      if (!f) return undefined
      out.push(...f)
    }
    return out
  }

  /** Why the repeat's body can match one text in several ways across iterations, if it can. */
  ambiguity(r: RegexOf<'repeat'>): string | undefined {
    let why: string | undefined
    const visit = (n: RegexNode): void => {
      if (why !== undefined || n.kind === 'look') return
      if (n !== r.body && n.kind === 'repeat' && unbounded(n) && !this.nullable(n.body)) {
        if (this.withinVia(r.body, n, this.chars(n.body)))
          why = `the repeated ${this.text(n)} inside the repeated ${this.text(r)} can split the same text between iterations in many ways`
      }
      if (why === undefined && n.kind === 'alt' && n.items.length <= MAX_ALTERNATIVES) {
        const shapes = n.items.map((x) => this.fixed(x))
        for (let x = 0; x < shapes.length && why === undefined; x++)
          for (let y = x + 1; y < shapes.length && why === undefined; y++) {
            const p = shapes[x]
            const q = shapes[y]
            if (p && q && p.length === q.length && p.length > 0 && p.every((c, k) => intersects(c, itemAt(q, k))))
              why = `the alternatives ${this.text(itemAt(n.items, x))} and ${this.text(itemAt(n.items, y))} inside the repeated ${this.text(r)} match the same text`
          }
      }
      for (const c of children(n)) visit(c)
    }
    visit(r.body)
    return why
  }

  text(n: RegexNode): string {
    return `'${this.regex.source.slice(n.start, n.end)}'`
  }
}

/**
 * Bounds that keep the check fast on any input (a rule file is untrusted): larger patterns, and the
 * pairs of larger alternations, are not analysed — the check stays silent on them.
 */
const MAX_NODES = 2000
const MAX_ALTERNATIVES = 100

const unbounded = (n: RegexOf<'repeat'>): boolean => n.max === undefined || n.max >= 10

function children(n: RegexNode): readonly RegexNode[] {
  if (n.kind === 'alt' || n.kind === 'seq') return n.items
  if (n.kind === 'group' || n.kind === 'look' || n.kind === 'repeat') return [n.body]
  return []
}

/** Whether `target` is `n` or inside it: spans nest as the tree does. */
function contains(n: RegexNode, target: RegexNode): boolean {
  return n === target || (n.start <= target.start && target.end <= n.end && n.end > n.start)
}

/**
 * Whether something after `path[path.length - 1]` can fail to match: then a backtracking engine,
 * having matched the repeat, comes back to try its other splits. At the end of an unanchored
 * search nothing can fail, and the first split found is the match.
 */
function canFailAfter(a: Analysis, path: readonly RegexNode[]): boolean {
  for (let k = path.length - 1; k > 0; k--) {
    const parent = itemAt(path, k - 1)
    const child = itemAt(path, k)
    if (parent.kind === 'seq') {
      const after = parent.items.slice(parent.items.indexOf(child) + 1)
      if (after.some((x) => !a.nullable(x) || x.kind === 'anchor' || x.kind === 'boundary' || x.kind === 'look'))
        return true
    }
    if (parent.kind === 'look') return true
  }
  return false
}

/** The first repeat of the pattern that backtracks catastrophically, or undefined. */
export function catastrophicBacktracking(regex: SigmaRegex): Backtracking | undefined {
  let nodes = 0
  const count = (n: RegexNode): void => {
    nodes++
    if (nodes <= MAX_NODES) children(n).forEach(count)
  }
  count(regex.root)
  if (nodes > MAX_NODES) return undefined
  const a = new Analysis(regex)
  let found: Backtracking | undefined
  const visit = (n: RegexNode, path: RegexNode[]): void => {
    if (found) return
    const here = [...path, n]
    if (n.kind === 'repeat' && unbounded(n) && a.chars(n.body).length > 0 && canFailAfter(a, here)) {
      const why = a.ambiguity(n)
      if (why) {
        found = { start: n.start, end: n.end, why }
        return
      }
    }
    for (const c of children(n)) visit(c, here)
  }
  visit(regex.root, [])
  return found
}
