/**
 * A target's language facts as data: its boolean contexts (operators, binding powers, string
 * literals), the lowering passes its renderer expects, how it nests long runs, and what it refuses
 * outright. Each backend declares one `… as const satisfies TargetSpec` object beside its renderer
 * and reads its operators and binding powers from it; the renderer is the code the language needs
 * beyond that (the environment — log sources, field maps, schemas — is data in targets/<id>/).
 */
import type { Node } from '../ast/nodes.js'
import type { RefusalCode } from './refusal.js'
import type { TargetId } from './types.js'
import { must } from '../guards.js'
import { flatten } from '../passes/flatten.js'
import { negatePresence } from '../passes/presence.js'

/** A quoted literal: the quote and the characters written otherwise inside it. */
export interface LiteralContext {
  readonly quote: string
  readonly escapes: Readonly<Record<string, string>>
}

/**
 * One boolean expression language. Binding powers: higher binds tighter; an operand whose operator
 * binds less tightly than the place it stands in is parenthesised.
 */
export interface BooleanContext {
  readonly and: string
  readonly or: string
  readonly not: string
  readonly bindingPower: { readonly Or: number; readonly And: number; readonly Not: number }
  readonly string?: LiteralContext
}

/** The AST → AST passes of src/passes/ a spec may ask for, applied in the order given. */
export const PASSES = {
  flatten,
  negatePresence,
} as const satisfies Readonly<Record<string, (n: Node) => Node>>

export type PassName = keyof typeof PASSES

export interface TargetSpec {
  readonly id: TargetId
  /** The boolean contexts of the language (SPL has two: `search` terms and `where` eval expressions). */
  readonly contexts: Readonly<Record<string, BooleanContext>>
  readonly passes: readonly PassName[]
  /** Runs longer than `size` operands are nested: in groups of `size`, or in halves. */
  readonly maxRun?: { readonly size: number; readonly shape: 'groups' | 'halves' }
  /** Constructs refused whatever the rule says, with the code they are refused with. */
  readonly refuses: Readonly<Partial<Record<Node['kind'], RefusalCode>>>
}

/**
 * Numeric comparison operators: spelt the same in SPL eval, KQL, EQL and SQL
 * (`|lt` `|lte` `|gt` `|gte` → `<` `<=` `>` `>=`).
 */
export const COMPARE = { lt: '<', lte: '<=', gt: '>', gte: '>=' } as const

/** The rule's detection through the spec's passes. */
export function lower(spec: TargetSpec, node: Node): Node {
  return spec.passes.reduce((n, pass) => PASSES[pass](n), node)
}

/**
 * `text` as an operand at a place of binding power `outer`: parenthesised when its own operator
 * (`inner`) binds less tightly.
 */
export const operand = (text: string, inner: number, outer: number): string => (inner < outer ? `(${text})` : text)

/** The escape a string table gives `c`: every character a renderer's replace pattern selects has one. */
export function escapeOf(escapes: Readonly<Record<string, string>>, c: string): string {
  return must(escapes[c], `a string escape for ${JSON.stringify(c)}`)
}
