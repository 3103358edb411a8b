/**
 * Strings generated from a pattern itself, for the adversarial events: for a Sigma wildcard value
 * and for a Sigma regular expression, strings that hit it and strings that just miss it, one
 * construct at a time. A backend that widens or narrows one construct (a `?` read as `*`, a `*`
 * dropped from one end, a quantifier's bound off by one, an alternation branch lost, a class
 * widened) then meets an event on which the query and the rule disagree.
 *
 * - Wildcards: `?` filled with 0, 1 and 2 characters (each `?` on its own); an extra character at
 *   every position (it hits only where a `*` is); each character dropped; case variants.
 * - Regexes (parsed by src/regex, the project's one reader): one string per alternation branch;
 *   each quantifier at min, max, min-1 and max+1 (min+1, min+2 when unbounded); each class, set or
 *   dot with another character it matches; each atom replaced by a character it does not match,
 *   and dropped; the default string with text around it and case-swapped.
 *
 * Whether a string hits is never decided here: the reference evaluator says so. Counts are bounded
 * (`limit`); the positions and variants kept are spread over the whole pattern.
 */
import type { Pattern } from '../ast/nodes.js'
import { childrenOf, type RegexFlags, type RegexNode } from '../regex/ast.js'
import { parseSigmaRegex } from '../regex/parse.js'
import { first, itemAt } from '../guards.js'

/** Longest string a quantifier is unrolled to (its repetition count is capped). */
const MAX_REPEAT = 64
/** Longest text a quantifier is unrolled to, whatever its nesting. */
const MAX_LENGTH = 4096

/** `n` items of `list`, spread evenly, first and last kept; all of them when there are few. */
export function spread<T>(list: readonly T[], n: number): T[] {
  if (list.length <= n) return [...list]
  if (n <= 0) return []
  if (n === 1) return [first(list)]
  const out: T[] = []
  for (let k = 0; k < n; k++) out.push(itemAt(list, Math.round((k * (list.length - 1)) / (n - 1))))
  return out
}

export function swapCase(s: string): string {
  return [...s].map((c) => (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase())).join('')
}

// --- wildcards ---------------------------------------------------------------------------------

/** The pattern with each `*` filled with `any` and each `?` with `one` (or per-index fills). */
function fill(pattern: Pattern, any: string, one: (index: number) => string): string {
  let q = 0
  return pattern.map((s) => (s.kind === 'lit' ? s.text : s.kind === 'any' ? any : one(q++))).join('')
}

/**
 * Hits and just-misses of a wildcard value, most telling first: the shortest hit, each `?` with 0
 * and 2 characters, an `x` inserted at each position, each character dropped, case variants.
 */
export function wildcardSamples(pattern: Pattern, limit = 40): string[] {
  const out = new Set<string>()
  const add = (s: string) => out.add(s)
  const shortest = fill(pattern, '', () => 'w')
  add(shortest)
  add(swapCase(shortest))
  const ones = pattern.filter((s) => s.kind === 'one').length
  // Each `?` on its own (spread over the value when it has very many).
  const questions = spread(
    Array.from({ length: ones }, (_, j) => j),
    Math.max(4, Math.floor(limit / 3)),
  )
  for (const j of questions) {
    add(fill(pattern, '', (k) => (k === j ? '' : 'w')))
    add(fill(pattern, '', (k) => (k === j ? 'ww' : 'w')))
  }
  const chars = [...shortest]
  const positions = spread(
    chars.map((_, p) => p),
    Math.max(4, Math.floor(limit / 3)),
  )
  const inserts = spread([...chars.keys(), chars.length], Math.max(4, Math.floor(limit / 3)))
  for (const p of inserts) add([...chars.slice(0, p), 'x', ...chars.slice(p)].join(''))
  for (const p of positions) add([...chars.slice(0, p), ...chars.slice(p + 1)].join(''))
  add(shortest.toUpperCase())
  add(shortest.toLowerCase())
  return [...out].slice(0, Math.max(limit, 2 + 2 * questions.length))
}

// --- regexes -----------------------------------------------------------------------------------

type Variant = number | 'miss' | 'drop' | 'other'

interface Focus {
  readonly node: RegexNode
  readonly variant: Variant
}

const ATOM_KINDS = new Set<RegexNode['kind']>(['char', 'dot', 'set', 'class'])
/** Characters tried, in order, as a hit or a miss of an atom. */
const TRIAL = ['a', '0', 'x', ' ', '-', 'Z', '_', '.', '/', '\\', '\t', '\n', 'é', '!']

/**
 * Hits and just-misses of a Sigma regex (JavaScript syntax, `flags`), or just the empty list when
 * the project's parser does not read it.
 */
export function regexSamples(source: string, flags: RegexFlags, limit = 40): string[] {
  const parsed = parseSigmaRegex(source, flags)
  if ('unsupported' in parsed) return []
  const flagText = (flags.i ? 'i' : '') + (flags.m ? 'm' : '') + (flags.s ? 's' : '')
  const atomTests = new Map<RegexNode, RegExp | undefined>()
  /** Does the atom (its source text, with the rule's flags) match the one character `c`? */
  const atomMatches = (n: RegexNode, c: string): boolean => {
    if (n.kind === 'char') {
      const own = String.fromCodePoint(n.cp)
      return flags.i ? own.toLowerCase() === c.toLowerCase() || own.toUpperCase() === c.toUpperCase() : own === c
    }
    if (!atomTests.has(n)) {
      let re: RegExp | undefined
      try {
        re = new RegExp(`^(?:${source.slice(n.start, n.end)})$`, flagText)
      } catch {
        re = undefined
      }
      atomTests.set(n, re)
    }
    const re = atomTests.get(n)
    return re ? re.test(c) : false
  }
  const hitChar = (n: RegexNode): string => {
    if (n.kind === 'char') return String.fromCodePoint(n.cp)
    if (n.kind === 'class' && !n.negated && n.items[0]) {
      const first = n.items[0]
      const c = first.kind === 'char' ? first.cp : first.kind === 'range' ? first.from : undefined
      if (c !== undefined && atomMatches(n, String.fromCodePoint(c))) return String.fromCodePoint(c)
    }
    return TRIAL.find((c) => atomMatches(n, c)) ?? ''
  }
  /** Another character the atom matches (a class's last member, another case), or its usual one. */
  const otherHitChar = (n: RegexNode): string => {
    const usual = hitChar(n)
    const tries: string[] = []
    if (n.kind === 'class' && !n.negated) {
      const last = n.items[n.items.length - 1]
      if (last?.kind === 'range') tries.push(String.fromCodePoint(last.to))
      if (last?.kind === 'char') tries.push(String.fromCodePoint(last.cp))
    }
    tries.push(usual.toUpperCase(), usual.toLowerCase(), ...TRIAL)
    return tries.find((c) => c !== usual && atomMatches(n, c)) ?? usual
  }
  const missChar = (n: RegexNode): string => {
    const near: string[] = []
    if (n.kind === 'char') {
      for (const cp of [n.cp + 1, n.cp - 1]) if (cp >= 0x20 && cp <= 0x10ffff) near.push(String.fromCodePoint(cp))
    }
    return [...near, ...TRIAL].find((c) => !atomMatches(n, c)) ?? ''
  }

  // Capturing groups by number (and name), for backreferences.
  const groupNumber = new Map<RegexNode, number>()
  const groupByName = new Map<string, number>()
  const number = (n: RegexNode): void => {
    if (n.kind === 'group' && n.capture) {
      groupNumber.set(n, groupNumber.size + 1)
      if (n.name) groupByName.set(n.name, groupNumber.size)
    }
    for (const c of childrenOf(n)) number(c)
  }
  number(parsed.root)

  const render = (root: RegexNode, focus: Focus | undefined): string => {
    const captured = new Map<number, string>()
    // An atom is missed or dropped once (in the first repetition of its quantifier), not in all.
    let spent = false
    const walk = (n: RegexNode): string => {
      let here = focus?.node === n && !spent ? focus.variant : undefined
      if (here === 'miss' || here === 'drop' || here === 'other') spent = true
      if (focus?.node === n && typeof focus.variant === 'number') here = focus.variant
      switch (n.kind) {
        case 'alt':
          return walk(itemAt(n.items, typeof here === 'number' ? here : 0))
        case 'seq':
          return n.items.map(walk).join('')
        case 'char':
        case 'dot':
        case 'set':
        case 'class':
          return here === 'drop' ? '' : here === 'miss' ? missChar(n) : here === 'other' ? otherHitChar(n) : hitChar(n)
        case 'anchor':
        case 'boundary':
        case 'look':
          return ''
        case 'group': {
          const text = walk(n.body)
          const k = groupNumber.get(n)
          if (k !== undefined) captured.set(k, text)
          return text
        }
        case 'backref': {
          const k = n.group ?? (n.name !== undefined ? groupByName.get(n.name) : undefined)
          return k !== undefined ? (captured.get(k) ?? '') : ''
        }
        case 'repeat': {
          const count = Math.min(typeof here === 'number' ? here : n.min, MAX_REPEAT)
          let out = ''
          // Nested quantifiers multiply: the text stops growing at MAX_LENGTH.
          for (let k = 0; k < count && out.length < MAX_LENGTH; k++) out += walk(n.body)
          return out
        }
      }
    }
    return walk(root)
  }

  const branches: Focus[] = []
  const bounds: Focus[] = []
  const misses: Focus[] = []
  const drops: Focus[] = []
  const others: Focus[] = []
  const collect = (n: RegexNode): void => {
    if (n.kind === 'alt') for (let k = 1; k < n.items.length; k++) branches.push({ node: n, variant: k })
    if (n.kind === 'repeat') {
      const counts = n.max === undefined ? [n.min - 1, n.min + 1, n.min + 2] : [n.max, n.min - 1, n.max + 1, n.min + 1]
      for (const c of new Set(counts))
        if (c >= 0 && c !== n.min && c <= MAX_REPEAT) bounds.push({ node: n, variant: c })
    }
    if (ATOM_KINDS.has(n.kind)) {
      misses.push({ node: n, variant: 'miss' })
      drops.push({ node: n, variant: 'drop' })
      if (n.kind !== 'char' || flags.i) others.push({ node: n, variant: 'other' })
    }
    // A lookaround's body is not generated (it asserts, it adds no text).
    if (n.kind !== 'look') for (const c of childrenOf(n)) collect(c)
  }
  collect(parsed.root)

  const out = new Set<string>()
  const add = (s: string) => out.add(s)
  const base = render(parsed.root, undefined)
  add(base)
  // Branches and bounds first (they are what the backends got wrong), then atoms.
  const room = Math.max(limit - 6, 4)
  for (const f of spread(branches, Math.ceil(room / 3))) add(render(parsed.root, f))
  for (const f of spread(bounds, Math.ceil(room / 4))) add(render(parsed.root, f))
  for (const f of spread(others, Math.ceil(room / 6))) add(render(parsed.root, f))
  for (const f of spread(misses, Math.ceil(room / 4))) add(render(parsed.root, f))
  for (const f of spread(drops, Math.ceil(room / 6))) add(render(parsed.root, f))
  // Text around the hit (anchors, multiline), and the other case.
  add(swapCase(base))
  add(`x${base}`)
  add(`${base}x`)
  add(`a\n${base}`)
  add(`${base}\nb`)
  return [...out].slice(0, limit)
}
