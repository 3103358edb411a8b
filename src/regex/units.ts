/**
 * Code units against characters, decided once for every dialect that counts characters (PCRE,
 * RE2, Lucene). Without the `u` flag JavaScript matches `.`, a negated class and `\S \D \W` one
 * UTF-16 code unit at a time, so such a "unit" atom may take half of an emoji; the other engines
 * take whole characters. For each unit atom this module decides which form the printer writes:
 *
 * - `full` (any character): repeated with `*`; repeated with `+` where neither end can split an
 *   emoji; once (or with `?`) at a free edge of the search, where half an emoji is as good as a
 *   whole one;
 * - `bmp` (characters of the Basic Multilingual Plane only): once between two neighbours that
 *   surely start or end on a character boundary, where half an emoji cannot fit;
 *
 * and refuses everything else (counted repeats, units side by side, units next to groups,
 * optional parts or assertions), where the engines could disagree.
 */
import { matchesEmpty, unsupported, type RegexFlags, type RegexNode, type RegexOf } from './ast.js'
import { itemAt, last, must } from '../guards.js'

/**
 * `counted` (RE2 only, when asked for): a counted repeat `{m,n}` of a unit between two aligned
 * neighbours, which the printer writes as the runs of whole characters whose UTF-16 length is
 * m..n (a character outside the BMP counting two), its body in the `bmp` form.
 */
export type UnitForm = 'full' | 'bmp' | 'counted'

/** Whether a node is a unit atom: it matches one UTF-16 code unit, so possibly half of an emoji. */
export function isUnit(n: RegexNode): boolean {
  if (n.kind === 'dot') return true
  if (n.kind === 'set') return n.set === 'D' || n.set === 'W' || n.set === 'S'
  if (n.kind === 'class') return n.negated || n.items.some((x) => x.kind === 'set' && /[DWS]/.test(x.set))
  return false
}

/**
 * Whether a class names surrogate code units itself ([^\uD83D]): then it may take one half of an
 * emoji and not the other, and a run of it is no run of whole characters.
 */
function takesSurrogates(n: RegexNode): boolean {
  if (n.kind !== 'class') return false
  return n.items.some(
    (x) =>
      (x.kind === 'char' && x.cp >= 0xd800 && x.cp <= 0xdfff) ||
      (x.kind === 'range' && x.from <= 0xdfff && x.to >= 0xd800),
  )
}

interface Tok {
  readonly k: 'atom' | 'unit' | 'anchor' | 'zero' | 'open' | 'look' | 'close' | 'alt'
  readonly node?: RegexNode
  q?: RegexOf<'repeat'>
  readonly depth: number
}

/** The pattern as a flat list of tokens, each quantifier on the token it repeats (a group's on its close). */
function tokens(root: RegexNode, flags: RegexFlags): Tok[] {
  const out: Tok[] = []
  const go = (n: RegexNode, depth: number): void => {
    switch (n.kind) {
      case 'alt':
        n.items.forEach((x, k) => {
          if (k > 0) out.push({ k: 'alt', depth })
          go(x, depth)
        })
        return
      case 'seq':
        for (const x of n.items) go(x, depth)
        return
      case 'repeat':
        go(n.body, depth)
        last(out).q = n
        return
      case 'group':
      case 'look':
        out.push({ k: n.kind === 'group' ? 'open' : 'look', node: n, depth })
        go(n.body, depth + 1)
        out.push({ k: 'close', node: n, depth })
        return
      case 'anchor':
        out.push({ k: flags.m ? 'zero' : 'anchor', node: n, depth })
        return
      case 'boundary':
      case 'backref':
        out.push({ k: 'zero', node: n, depth })
        return
      default:
        out.push({ k: isUnit(n) ? 'unit' : 'atom', node: n, depth })
    }
  }
  go(root, 0)
  return out
}

/**
 * What a unit meets on one side: `aligned` when that surely starts or ends on a character boundary
 * (a required atom, a required group of atoms, `^`/`$`), `free` at an unanchored edge of the whole
 * pattern (where a search may start or stop anywhere), `other` otherwise (an assertion, a group
 * holding units, a lookaround). Optional atoms and groups of atoms are looked past: they cannot
 * take half of an emoji, so they cannot move a split. The end of an alternative or of a group
 * that is not repeated is looked out of: what follows the group follows the unit.
 */
function neighbour(
  toks: readonly Tok[],
  pairs: ReadonlyMap<number, number>,
  unitFree: ReadonlySet<number>,
  j: number,
  dir: 1 | -1,
): 'aligned' | 'free' | 'other' {
  for (let k = j + dir; ; k += dir) {
    const t = toks[k]
    if (t === undefined) return 'free'
    if (t.k === 'alt') {
      if (t.depth === 0) return 'free'
      // The end of an alternative inside a group: go on from the group's edge.
      const edge = enclosing(toks, k, dir)
      if (edge === undefined) return 'other'
      k = edge - dir
      continue
    }
    if (t.k === 'anchor') return 'aligned'
    if (t.k === 'atom') {
      if (t.q === undefined || t.q.min >= 1) return 'aligned'
      continue
    }
    // A plain group met from outside: `close` going left, `open` going right.
    if ((t.k === 'close' && dir === -1) || (t.k === 'open' && dir === 1)) {
      // A group without a pair (a lookaround) is not aligned with anything.
      const other = pairs.get(k)
      if (other === undefined) return 'other'
      const close = dir === -1 ? t : itemAt(toks, other)
      if (!unitFree.has(Math.min(k, other))) return 'other'
      // A group that may match nothing (`(a|)`, `(a?)`) is an optional part: looked past.
      const body = close.node?.kind === 'group' ? close.node.body : undefined
      if ((close.q === undefined || close.q.min >= 1) && body !== undefined && !matchesEmpty(body)) return 'aligned'
      k = other
      continue
    }
    // A plain group left from inside (`close` going right, `open` going left): when it is not
    // repeated, what stands outside it is next; a repeated one may start over.
    if ((t.k === 'close' && dir === 1) || (t.k === 'open' && dir === -1)) {
      const other = pairs.get(k)
      const close = dir === 1 ? t : other === undefined ? undefined : toks[other]
      if (close === undefined || close.node?.kind !== 'group') return 'other'
      if (close.q !== undefined && (close.q.max === undefined || close.q.max > 1)) return 'other'
      continue
    }
    return 'other'
  }
}

/** The `close` (dir 1) or `open` (dir -1) of the plain group around token k, if it is one. */
function enclosing(toks: readonly Tok[], k: number, dir: 1 | -1): number | undefined {
  let level = 0
  for (let x = k + dir; x >= 0 && x < toks.length; x += dir) {
    const t = itemAt(toks, x)
    const opens = t.k === 'open' || t.k === 'look'
    if (dir === 1 ? opens : t.k === 'close') level++
    else if (dir === 1 ? t.k === 'close' : opens) {
      if (level === 0) return t.node?.kind === 'group' ? x : undefined
      level--
    }
  }
  return undefined
}

/** Matching open/close indexes of plain groups, and the plain groups that hold no unit. */
function groupsOf(toks: readonly Tok[]): { pairs: Map<number, number>; unitFree: Set<number> } {
  const pairs = new Map<number, number>()
  const unitFree = new Set<number>()
  const stack: number[] = []
  for (const [k, t] of toks.entries()) {
    if (t.k === 'open' || t.k === 'look') stack.push(k)
    else if (t.k === 'close') {
      const open = must(stack.pop(), 'a non-empty stack')
      if (itemAt(toks, open).k !== 'open') continue
      pairs.set(open, k)
      pairs.set(k, open)
      if (toks.slice(open + 1, k).every((x) => x.k !== 'unit' && x.k !== 'zero' && x.k !== 'look')) unitFree.add(open)
    }
  }
  return { pairs, unitFree }
}

/**
 * The form of every unit atom of the pattern, or an Unsupported thrown for the first one no
 * character-counting engine can match as JavaScript does. `engine` names the engine in messages.
 */
export function unitForms(
  root: RegexNode,
  flags: RegexFlags,
  engine: string,
  options: { readonly counted?: boolean } = {},
): Map<RegexNode, UnitForm> {
  const toks = tokens(root, flags)
  const { pairs, unitFree } = groupsOf(toks)
  const forms = new Map<RegexNode, UnitForm>()
  for (const [j, t] of toks.entries()) {
    if (t.k !== 'unit') continue
    const node = must(t.node, 'tokens() gives every unit token its node')
    const span = t.q ?? node
    if (toks[j - 1]?.k === 'unit' || toks[j + 1]?.k === 'unit')
      unsupported(
        'two single-character wildcards side by side',
        `two of \`.\`, a negated class, \\S \\D \\W side by side: JavaScript may split an emoji between them, ${engine} cannot`,
        span,
      )
    const left = neighbour(toks, pairs, unitFree, j, -1)
    const right = neighbour(toks, pairs, unitFree, j, 1)
    const q = t.q
    if (q && q.min === 0 && q.max === undefined) {
      // `*`: a run of any length can always end on a character boundary.
      forms.set(node, 'full')
    } else if (q && q.min === 1 && q.max === undefined) {
      if (left === 'other' || right === 'other')
        unsupported(
          'a repeated single-character wildcard next to a group, an optional part or an assertion',
          `\`.+\` or a repeated negated class there: JavaScript may split an emoji, ${engine} cannot`,
          span,
        )
      forms.set(node, 'full')
    } else if (
      q &&
      !(q.max !== undefined && q.max <= 1) &&
      options.counted === true &&
      q.max !== undefined &&
      !takesSurrogates(node) &&
      left === 'aligned' &&
      right === 'aligned'
    ) {
      // Both ends on a character boundary: the run is whole characters, and only its UTF-16 length
      // must be m..n, which the printer spells out (or refuses when that is too long).
      forms.set(node, 'counted')
    } else if (q && !(q.max !== undefined && q.max <= 1)) {
      unsupported(
        'a counted repeat of a single-character wildcard',
        `the counted repeat of \`.\` or a negated class: JavaScript counts UTF-16 units, ${engine} characters`,
        span,
      )
    } else if (left === 'aligned' && right === 'aligned') {
      forms.set(node, 'bmp')
    } else if ((left === 'free' && right !== 'other') || (right === 'free' && left !== 'other')) {
      forms.set(node, 'full')
    } else {
      unsupported(
        'a single-character wildcard next to a group, an optional part or an assertion',
        `a single \`.\` or negated class there: JavaScript may match half of an emoji, ${engine} cannot`,
        span,
      )
    }
  }
  return forms
}
