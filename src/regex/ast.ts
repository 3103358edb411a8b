/**
 * A Sigma regular expression as a small tree: JavaScript syntax and meaning without the `u` flag
 * (docs/semantics.md). One parser (parse.ts) builds it; each target dialect prints it or names the
 * construct it cannot express (pcre.ts, re2.ts, lucene.ts, std-regex.ts). Every node keeps its
 * source span (`start`/`end`, UTF-16 offsets into the source) for positioned messages and for
 * dialects that can copy the source text as it is.
 */

import type { RegexFlags } from '../ast/nodes.js'

export type { RegexFlags }

interface Span {
  readonly start: number
  readonly end: number
}

/** `\d \D \w \W \s \S`. */
export type SetName = 'd' | 'D' | 'w' | 'W' | 's' | 'S'

export type ClassItem =
  | (Span & { readonly kind: 'char'; readonly cp: number })
  | (Span & { readonly kind: 'range'; readonly from: number; readonly to: number })
  | (Span & { readonly kind: 'set'; readonly set: SetName })

export type RegexNode =
  /** `a|b`, two or more alternatives. */
  | (Span & { readonly kind: 'alt'; readonly items: readonly RegexNode[] })
  /** Terms in order; an empty sequence matches the empty string. */
  | (Span & { readonly kind: 'seq'; readonly items: readonly RegexNode[] })
  /**
   * One literal character. `cp` above 0xFFFF is a surrogate pair written as one character (two
   * code units to JavaScript). `escape` is the escape letter when it was written as `\n`, `\x41`,
   * `\.` … (undefined when written as itself).
   */
  | (Span & { readonly kind: 'char'; readonly cp: number; readonly escape?: string })
  | (Span & { readonly kind: 'dot' })
  | (Span & { readonly kind: 'set'; readonly set: SetName })
  /** `[…]`; `[]` matches nothing, `[^]` any code unit. */
  | (Span & { readonly kind: 'class'; readonly negated: boolean; readonly items: readonly ClassItem[] })
  /** `^` and `$` (line anchors with the m flag). */
  | (Span & { readonly kind: 'anchor'; readonly at: 'start' | 'end' })
  /** `\b` (`negated`: `\B`). */
  | (Span & { readonly kind: 'boundary'; readonly negated: boolean })
  /** `(…)`, `(?:…)`, `(?<name>…)`. */
  | (Span & {
      readonly kind: 'group'
      readonly capture: boolean
      readonly name?: string
      readonly body: RegexNode
    })
  /** `(?=…)`, `(?!…)`, `(?<=…)`, `(?<!…)`. */
  | (Span & { readonly kind: 'look'; readonly behind: boolean; readonly negated: boolean; readonly body: RegexNode })
  /** `\1` … (`group` its number) or `\k<name>`. */
  | (Span & { readonly kind: 'backref'; readonly group?: number; readonly name?: string })
  /** `body{min,max}`; `max` undefined when unbounded; `lazy` for a trailing `?`. */
  | (Span & {
      readonly kind: 'repeat'
      readonly body: RegexNode
      readonly min: number
      readonly max: number | undefined
      readonly lazy: boolean
    })

export type RegexKind = RegexNode['kind']
export type RegexOf<K extends RegexKind> = Extract<RegexNode, { kind: K }>

/** A parsed Sigma regex: its tree, the source it came from and its flags. */
export interface SigmaRegex {
  readonly source: string
  readonly flags: RegexFlags
  readonly root: RegexNode
}

/**
 * Why a dialect cannot say what a Sigma regex says: `construct` names the construct (for the
 * message and for tests), `why` explains the difference, `at` is the construct's source span.
 */
export interface Unsupported {
  readonly construct: string
  readonly why: string
  readonly start?: number
  readonly end?: number
}

export type Printed = { readonly text: string } | { readonly unsupported: Unsupported }

/** Thrown inside a printer and caught at its entry point; never escapes the module. */
export class UnsupportedConstruct {
  constructor(readonly unsupported: Unsupported) {}
}

export function unsupported(construct: string, why: string, node?: Span): never {
  throw new UnsupportedConstruct({ construct, why, ...(node ? { start: node.start, end: node.end } : {}) })
}

/** Run a printer, turning a thrown UnsupportedConstruct into its result. */
export function printing(print: () => string): Printed {
  try {
    return { text: print() }
  } catch (e) {
    if (e instanceof UnsupportedConstruct) return { unsupported: e.unsupported }
    throw e
  }
}

/** The quantifier as written (`*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, plus `?` when lazy). */
export function quantifierText(n: RegexOf<'repeat'>, source: string): string {
  return source.slice(n.body.end, n.end)
}

/** Children of a node, for walks. */
export function childrenOf(n: RegexNode): readonly RegexNode[] {
  switch (n.kind) {
    case 'alt':
    case 'seq':
      return n.items
    case 'group':
    case 'look':
    case 'repeat':
      return [n.body]
    default:
      return []
  }
}

/** Whether a node can match the empty string (a zero-width assertion does). */
export function matchesEmpty(n: RegexNode): boolean {
  switch (n.kind) {
    case 'alt':
      return n.items.some(matchesEmpty)
    case 'seq':
      return n.items.every(matchesEmpty)
    case 'repeat':
      return n.min === 0 || matchesEmpty(n.body)
    case 'group':
      return matchesEmpty(n.body)
    case 'anchor':
    case 'boundary':
    case 'look':
    case 'backref':
      return true
    default:
      return false
  }
}
